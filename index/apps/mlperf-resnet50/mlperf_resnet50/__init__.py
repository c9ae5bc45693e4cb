"""MLPerf Inference ResNet-50 v1.5 on the shared harness (``mlperf_harness``).

This package supplies only what is ResNet-50's own: flags and their recipe-environment
defaults (``cli``), the preprocessed ImageNet set (``dataset``), the inference engines
(``backends``, ``model_torch``) and top-1 scoring (``accuracy``). LoadGen, profiles, the
results layout and result.json are the harness's. It must not import cmpkg.
"""

MODEL_NAME = "resnet50"
