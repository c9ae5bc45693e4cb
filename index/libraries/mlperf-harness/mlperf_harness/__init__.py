"""The shared MLPerf Inference harness that cmpkg's benchmark apps run on.

A benchmark app describes itself with a ``benchmark.Benchmark`` (its flags, how to open its
model and data, how to score an accuracy log) and calls ``cli.main(benchmark)``; this
package does the rest under the real LoadGen (``mlperf_loadgen``). It runs inside the
environment cmpkg builds and must not import cmpkg.

Modules: ``profiles`` (smoke/full run lengths), ``settings`` (LoadGen TestSettings from
mlperf.conf, user.conf, the profile and flags), ``sut`` (the SUT and QSL over a backend),
``batching`` (the SUT's work queue), ``progress`` (terminal progress), ``estimate`` (how
long a run takes), ``compliance`` (audit.config for TEST01/TEST04), ``layout`` (the
official results directories), ``summary`` and ``accuracy_log`` (LoadGen's outputs),
``report`` (result.json and the closing summary), ``onnxruntime_session`` (the one ONNX
Runtime session setup of the apps' onnxruntime backends), ``versions`` and ``cli`` (the
driver, and the flags every app shares).
"""

__version__ = "0.1.0"
