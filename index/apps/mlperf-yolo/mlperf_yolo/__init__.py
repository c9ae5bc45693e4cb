"""MLPerf Inference YOLO-95 / YOLO-99 (YOLOv11 on a COCO 2017 subset, mAP) on the harness.

What is YOLO's own: flags and their recipe-environment defaults (``cli``), the COCO images
as letterboxed LoadGen samples (``dataset``), the engines (``backends``) and the mAP of an
accuracy log (``accuracy``). Letterboxing, postprocessing, response records and the COCO
metric are the ``coco_detection`` library's; LoadGen, profiles and results are
``mlperf_harness``'s.
"""

LOADGEN_MODEL = "yolo"  # the model's name in mlperf.conf
