"""COCO object detection for YOLO-style models: ``letterbox`` (an image to the model's
square input and boxes back), ``postprocess`` (raw model output to detections, as
Ultralytics' predictor does it), ``record`` (the MLPerf response of one image's
detections), ``annotations`` (a COCO instances file) and ``metric`` (COCO mAP through
pycocotools, as MLCommons' accuracy-coco.py computes it). Runs in the environments cmpkg
builds; must not import cmpkg."""

__version__ = "0.1.0"

#: The model's square input side (YOLOv11 as MLPerf runs it: 640 x 640).
INPUT_SIZE = 640
#: The 80 classes a COCO-trained YOLO predicts, as COCO category ids (COCO numbers 91
#: categories and leaves 11 unused); index i is the model's class i.
COCO_80_TO_91 = (
    *range(1, 12),
    *range(13, 26),
    27,
    28,
    *range(31, 45),
    *range(46, 66),
    67,
    70,
    *range(72, 83),
    *range(84, 91),
)
