"""MLPerf Inference ResNet-50 v1.5 harness run by cmpkg's ``mlperf-resnet50`` app.

Runs the benchmark under the real LoadGen (``mlperf_loadgen``) with an onnxruntime or
PyTorch system under test over a preprocessed ImageNet directory, and writes LoadGen's logs
plus ``result.json``. It runs inside the environment cmpkg builds and must not import
cmpkg. Modules: ``cli`` (flags, environment defaults, the run), ``dataset`` (the query
sample library), ``backends`` (inference engines), ``model_torch`` (the torch ResNet-50),
``runner`` (the system under test and LoadGen settings), ``summary`` and ``accuracy``
(pure parsers of LoadGen's outputs), ``report`` (result.json) and ``versions``.
"""

MODEL_NAME = "resnet50"
