"""KiTS19 case folders: ``<root>/case_XXXXX/imaging.nii.gz`` (CT, Hounsfield units) and
``segmentation.nii.gz`` (0 background, 1 kidney, 2 tumour), read with nibabel.

Which cases a run uses: ``<root>/inference_cases.json`` when the directory has one (the
synthetic set writes it), else the reference's 43 inference cases, all of which must be
present. 42 are KiTS19's; the 43rd, ``case_00400``, is not in KiTS19: the reference's
Makefile makes it by copying ``case_00185`` (``duplicate_kits19_case_00185``) since
MLPerf Inference v2.1, so that early stopping has 43 samples, and its
``meta/checksum_inference.json`` lists ``case_00400.pkl`` with ``case_00185.pkl``'s md5.
A directory without a ``case_00400`` folder has it read from ``case_00185`` (``COPIES``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGING = "imaging.nii.gz"
SEGMENTATION = "segmentation.nii.gz"
CASE_LIST = "inference_cases.json"
FILES = (IMAGING, SEGMENTATION)
# mlcommons/inference vision/medical_imaging/3d-unet-kits19/meta/inference_cases.json:
# the 42 KiTS19 cases (as of commit f6a1c681), then the copy added for v2.1.
REFERENCE_CASES = tuple(
    f"case_{n:05d}"
    for n in (
        0, 3, 5, 6, 12, 24, 34, 41, 44, 49, 52, 56, 61, 65, 66, 70, 76, 78, 80, 84, 86,
        87, 92, 111, 112, 125, 128, 138, 157, 160, 161, 162, 169, 171, 176, 185, 187,
        189, 198, 203, 206, 207, 400,
    )
)  # fmt: skip
#: Cases the reference makes by copying another case's folder: copy -> original.
COPIES = {"case_00400": "case_00185"}


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


def folder(root: Path, name: str) -> Path:
    """Where case ``name``'s files are: its own folder, or for a copy the reference makes
    (``COPIES``) and the directory lacks, the original's."""
    own = root / name
    if name in COPIES and not own.is_dir():
        return root / COPIES[name]
    return own


def check(root: Path, names: list[str]) -> None:
    """Every case folder with both files; raises CaseError naming the first few missing."""
    if not root.is_dir():
        raise CaseError(f"{root} is not a directory")
    needed = dict.fromkeys(folder(root, name) / file for name in names for file in FILES)
    missing = [f"{path.parent.name}/{path.name}" for path in needed if not path.is_file()]
    if missing:
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        raise CaseError(f"{root} lacks {shown}")


def read(root: Path, name: str) -> Volume:
    import nibabel

    image = nibabel.load(folder(root, name) / IMAGING)
    label = nibabel.load(folder(root, name) / SEGMENTATION)
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
