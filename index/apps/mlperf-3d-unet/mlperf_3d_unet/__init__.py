"""MLPerf Inference 3D-UNet-99 / 3D-UNet-99.9 (KiTS19 kidney-tumour segmentation) on the
shared harness.

What is 3D-UNet's own: flags and their recipe-environment defaults (``cli``), the
preprocessed KiTS19 cases as LoadGen samples (``dataset``), the engines running the
sliding window (``backends``) and the mean DICE of an accuracy log (``accuracy``). The
preprocessing, sliding window and DICE are the ``kits19_seg`` library's; LoadGen,
profiles and results are ``mlperf_harness``'s.
"""

LOADGEN_MODEL = "3d-unet"  # the model's name in mlperf.conf
