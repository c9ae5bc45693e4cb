"""KiTS19 case folders: ``<root>/case_XXXXX/imaging.nii.gz`` (CT, Hounsfield units) and
``segmentation.nii.gz`` (0 background, 1 kidney, 2 tumour), read with nibabel.

Which cases a run uses: ``<root>/inference_cases.json`` when the directory has one (the
synthetic set writes it), else the reference's 42 inference cases
(``meta/inference_cases.json`` of mlcommons/inference at commit f6a1c681), all of which
must be present.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGING = "imaging.nii.gz"
SEGMENTATION = "segmentation.nii.gz"
CASE_LIST = "inference_cases.json"
# mlcommons/inference vision/medical_imaging/3d-unet-kits19/meta/inference_cases.json
REFERENCE_CASES = tuple(
    f"case_{n:05d}"
    for n in (
        0, 3, 5, 6, 12, 24, 34, 41, 44, 49, 52, 56, 61, 65, 66, 70, 76, 78, 80, 84, 86,
        87, 92, 111, 112, 125, 128, 138, 157, 160, 161, 162, 169, 171, 176, 185, 187,
        189, 198, 203, 206, 207,
    )
)  # fmt: skip


class CaseError(ValueError):
    """A KiTS19 directory that lacks a case or a file; the message names it."""


@dataclass(frozen=True, slots=True)
class Volume:
    """One case as read: the image (float32) and label (uint8) in the file's axis order,
    the voxel spacing from the header's pixdim, and the affine."""

    case: str
    image: np.ndarray
    label: np.ndarray
    spacing: tuple[float, float, float]
    affine: np.ndarray


def case_names(root: Path) -> list[str]:
    listed = root / CASE_LIST
    if listed.is_file():
        names = json.loads(listed.read_text())
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise CaseError(f"{listed}: expected a JSON list of case names")
        return names
    return list(REFERENCE_CASES)


def check(root: Path, names: list[str]) -> None:
    """Every case folder with both files; raises CaseError naming the first few missing."""
    if not root.is_dir():
        raise CaseError(f"{root} is not a directory")
    missing = [
        f"{name}/{file}"
        for name in names
        for file in (IMAGING, SEGMENTATION)
        if not (root / name / file).is_file()
    ]
    if missing:
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        raise CaseError(f"{root} lacks {shown}")


def read(root: Path, name: str) -> Volume:
    import nibabel

    image = nibabel.load(root / name / IMAGING)
    label = nibabel.load(root / name / SEGMENTATION)
    spacing = tuple(float(s) for s in image.header["pixdim"][1:4])
    return Volume(
        case=name,
        image=np.asarray(image.get_fdata(), dtype=np.float32),
        label=np.asarray(label.get_fdata(), dtype=np.uint8),
        spacing=(spacing[0], spacing[1], spacing[2]),
        affine=np.asarray(image.affine),
    )


def write(
    root: Path, name: str, image: np.ndarray, label: np.ndarray, spacing: tuple[float, ...]
) -> None:
    """A case folder as KiTS19 ships it: int16 Hounsfield units and a uint8 label (the
    synthetic set's writer)."""
    import nibabel

    affine = np.diag([*spacing, 1.0])
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    nibabel.save(nibabel.Nifti1Image(image.astype(np.int16), affine), folder / IMAGING)
    nibabel.save(nibabel.Nifti1Image(label.astype(np.uint8), affine), folder / SEGMENTATION)
