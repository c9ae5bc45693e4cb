"""KiTS19 segmentation as MLPerf Inference's 3D-UNet reference defines it.

Modules: ``cases`` (the case folders, their NIfTI files, the reference's inference case
list), ``preprocess`` (resampling, intensity normalisation, padding/cropping for the
sliding window), ``sliding_window`` (window positions, the Gaussian importance map, the
weighted aggregation and argmax) and ``dice`` (per-case kidney/tumour DICE and their mean).
Written from the rules of mlcommons/inference ``vision/medical_imaging/3d-unet-kits19``
(``global_vars.py``, ``preprocess.py``, ``inference_utils.py``, ``base_SUT.py``,
``accuracy_kits.py``); see docs/mlperf.md for where it differs.
"""

__version__ = "0.1.0"
