"""MLPerf Inference BERT-99 / BERT-99.9 (SQuAD v1.1) on the shared harness.

What is BERT's own: flags and their recipe-environment defaults (``cli``), the SQuAD
features as LoadGen samples (``dataset``), the engines (``backends``) and the F1 / exact
match score of an accuracy log (``accuracy``). Features, answer extraction and the metric
are the ``squad_qa`` library's; LoadGen, profiles and results are ``mlperf_harness``'s.
"""

LOADGEN_MODEL = "bert"  # the model's name in mlperf.conf
