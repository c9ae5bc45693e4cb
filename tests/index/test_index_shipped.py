"""The index that ships with cmpkg: valid, complete, and true to the conventions it follows."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from cmpkg.index import SHIPPED_INDEX, Index, load_index
from cmpkg.index.checks import all_dependencies
from cmpkg.index.model import KINDS, Dependency, Pairs, Recipe, is_virtual

INDEX = load_index([SHIPPED_INDEX])
RECIPES = list(INDEX.all())
TORCH_INDEX = "https://download.pytorch.org/whl/"


def by_method(method: str) -> list[Recipe]:
    return [r for r in RECIPES if r.provide is not None and r.provide.method == method]


def test_size_and_kinds() -> None:
    assert len(RECIPES) >= 30
    assert {r.kind for r in RECIPES} == set(KINDS)


@pytest.mark.parametrize(
    "name",
    [
        *("python", "git", "cmake", "gcc", "cuda-toolkit", "cudnn", "nvidia-driver"),
        *("numpy", "pillow", "opencv-python-headless", "onnx", "onnxruntime", "onnxruntime-gpu"),
        *("torch", "torchvision", "mlcommons-loadgen", "resnet50-onnx", "resnet50-pytorch"),
        *("resnet50-synthetic", "imagenet-val", "imagenet-synthetic", "imagenet-preprocessed"),
        "mlperf-resnet50",
    ],
)
def test_required_packages_exist(name: str) -> None:
    assert INDEX.get(name), name


def test_python_tool_range() -> None:
    (python,) = INDEX.get("python")
    assert python.provide is not None
    assert str(python.provide.version_range) == ">=3.10"


@pytest.mark.parametrize("recipe", by_method("download"), ids=lambda r: r.label)
def test_downloads_are_hashed_and_say_how(recipe: Recipe) -> None:
    for source in recipe.sources:
        # A hub file whose hash could not be read is allowed only when marked unverified.
        unchecked = source.hub is not None and "unverified" in source.verified
        assert source.sha256 or source.md5 or unchecked
        assert source.verified.strip()
        assert all(url.startswith("https://") for url in source.urls)


@pytest.mark.parametrize("recipe", by_method("python"), ids=lambda r: r.label)
def test_python_requirements_pin_the_recipe_version(recipe: Recipe) -> None:
    assert recipe.provide is not None
    name, version = re.escape(recipe.name), re.escape(str(recipe.version))
    wanted = re.compile(rf"^{name}(\[[a-z,]+\])?=={version}(\+\w+)?$")
    requirements = list(recipe.provide.requirements)
    requirements += [p for g in recipe.variants for v in g.values for p in v.python]
    assert requirements
    assert all(wanted.match(r) for r in requirements), requirements


@pytest.mark.parametrize("name", ["torch", "torchvision"])
def test_pytorch_builds(name: str) -> None:
    for recipe in INDEX.get(name):
        group = recipe.group("compute")
        assert group is not None and (group.default == "cpu" or "cpu" not in group.names)
        for value in group.values:
            cuda = [d for d in value.depends if d.name == "__cuda"]
            if value.value == REGISTRY:
                continue  # test_registry_builds
            assert value.index_url == TORCH_INDEX + value.value
            assert value.python == (f"{name}=={recipe.version}+{value.value}",)
            assert bool(cuda) == value.value.startswith("cu")


REGISTRY = "registry"


def test_registry_builds() -> None:
    """`compute=registry` is the default index's own file of that version (no local label,
    no extra index), checked only on Linux x86_64, and needs no driver: it runs on CPU."""
    found = []
    for recipe in INDEX.get("torch"):
        group = recipe.group("compute")
        assert group is not None
        for value in group.values:
            if value.value != REGISTRY:
                continue
            found.append(str(recipe.version))
            assert value.index_url is None
            assert value.python == (f"torch=={recipe.version}",)
            facts = sorted((d.name, d.variants) for d in value.depends)
            assert facts == [("__arch", (("value", "x86_64"),)), ("__os", (("value", "linux"),))]
    assert found == ["2.14.0", "2.9.1"]


def test_torchvision_matches_torch_build() -> None:
    torch_versions = {str(r.version) for r in INDEX.get("torch")}
    for recipe in INDEX.get("torchvision"):
        group = recipe.group("compute")
        assert group is not None
        for value in group.values:
            (torch,) = [d for d in value.depends if d.name == "torch"]
            assert torch.variants == (("compute", value.value),)
            assert str(torch.specifier).lstrip("=") in torch_versions


def exported(recipe: Recipe, var: str) -> bool:
    """Whether every variant of the recipe exports `var`."""
    if var in dict(recipe.env):
        return True
    return any(all(var in dict(v.env) for v in g.values) for g in recipe.variants)


@pytest.mark.parametrize(
    ("name", "var"),
    [
        ("resnet50-onnx", "CMPKG_RESNET50_MODEL"),
        ("resnet50-pytorch", "CMPKG_RESNET50_MODEL"),
        ("resnet50-synthetic", "CMPKG_RESNET50_MODEL"),
        ("imagenet-val", "CMPKG_IMAGENET_IMAGES"),
        ("imagenet-synthetic", "CMPKG_IMAGENET_IMAGES"),
        ("imagenet-preprocessed", "CMPKG_IMAGENET_PREPROCESSED"),
    ],
)
def test_env_contract_with_the_harness(name: str, var: str) -> None:
    assert all(exported(r, var) for r in INDEX.get(name))


@pytest.mark.parametrize("recipe", by_method("generate"), ids=lambda r: r.label)
def test_generate_args_are_flags_of_the_script(recipe: Recipe) -> None:
    assert recipe.provide is not None and recipe.provide.script
    source = (recipe.path.parent / recipe.provide.script).read_text()
    flags = [a for a in recipe.provide.args if a.startswith("--")]
    assert "--out" in flags
    missing = [f for f in flags if f'"{f}"' not in source]
    assert not missing, f"{recipe.provide.script} has no {missing}"


@pytest.mark.parametrize("recipe", by_method("generate"), ids=lambda r: r.label)
def test_generate_variant_substitutions_name_groups(recipe: Recipe) -> None:
    assert recipe.provide is not None
    used = re.findall(r"\$\{variant\.([\w-]+)\}", " ".join(recipe.provide.args))
    assert all(recipe.group(g) is not None for g in used)


# -- the app and what its variants pull in ------------------------------------------------

(APP,) = INDEX.get("mlperf-resnet50")


def test_app_defaults() -> None:
    defaults = {
        "backend": "onnxruntime",
        "device": "cpu",
        "model": "synthetic",
        "dataset": "synthetic",
    }
    assert defaults.items() <= dict(APP.default_variant()).items()
    assert APP.run and APP.files
    assert all((APP.path.parent / f).exists() for f in APP.files)


def test_app_cuda_requires_cuda_facts() -> None:
    group = APP.group("device")
    assert group is not None
    assert any(d.name == "__cuda" for d in group.value("cuda").depends)
    assert not any(d.name and is_virtual(d.name) for d in group.value("cpu").depends)


def test_app_tag_queries_are_unambiguous() -> None:
    for _, dep in all_dependencies(APP):
        if dep.tags:
            assert len(INDEX.match_tags(dep.tags)) == 1, dep.tags


def active(recipe: Recipe, chosen: dict[str, str]) -> Iterator[Dependency]:
    """The dependencies of `recipe` that hold for the variant values `chosen`."""
    for key, dep in all_dependencies(recipe):
        value_key = key.split(".")[1:3] if key.startswith("variants.") else None
        if value_key and chosen.get(value_key[0]) != value_key[1]:
            continue
        if all(chosen.get(g) == v for g, v in dep.when):
            yield dep


def closure(index: Index, recipe: Recipe, pins: Pairs) -> set[tuple[str, str]]:
    """(name, method) of every package a variant pulls in, newest versions, default variants."""
    chosen = dict(recipe.default_variant()) | dict(pins)
    found = {(recipe.name, recipe.provide.method if recipe.provide else "")}
    for dep in active(recipe, chosen):
        if dep.name and is_virtual(dep.name):
            continue
        names = index.match_tags(dep.tags) if dep.tags else [dep.name or ""]
        for target in (index.get(n)[0] for n in names):
            found |= closure(index, target, dep.variants)
    return found


def test_default_app_needs_no_model_or_dataset_host() -> None:
    methods = {method for _, method in closure(INDEX, APP, ())}
    assert "download" not in methods and "user-path" not in methods
    names = {name for name, _ in closure(INDEX, APP, ())}
    assert {"resnet50-synthetic", "imagenet-synthetic", "onnxruntime"} <= names


@pytest.mark.parametrize(
    ("pins", "expected"),
    [
        ((("model", "official"),), {"resnet50-onnx"}),
        ((("backend", "pytorch"), ("model", "official")), {"resnet50-pytorch", "torch"}),
        ((("dataset", "imagenet"),), {"imagenet-val", "imagenet-preprocessed"}),
        ((("device", "cuda"),), {"onnxruntime-gpu"}),
    ],
)
def test_app_variants_pull_in(pins: Pairs, expected: set[str]) -> None:
    names = {name for name, _ in closure(INDEX, APP, pins)}
    assert expected <= names
    if ("device", "cuda") in pins:
        assert "onnxruntime" not in names


@pytest.mark.parametrize("backend", ["onnxruntime", "pytorch"])
def test_each_backend_keeps_the_default_synthetic_pair(backend: str) -> None:
    """Asking for a backend must not move the solver off the synthetic model and data (it
    once left dataset=synthetic for pytorch, and the install then asked for ImageNet)."""
    from cmpkg.resolve import FactValue, ResolveTask, parse_request, resolve

    facts = {"__arch=x86_64": FactValue("1", "test"), "__os=linux": FactValue("1", "test")}
    tools = {"python": FactValue("3.11.7", "/usr/bin/python3")}
    request = parse_request(f"mlperf-resnet50[backend={backend}]", INDEX)
    chosen = dict(resolve(ResolveTask(INDEX, facts, tools, (request,))).pins[APP.name].variant)
    assert chosen["model"] == "synthetic" and chosen["dataset"] == "synthetic", chosen
