"""Scenes: the whole state of the page as a value, written to and read from a link's query string.

A scene names the model, the input (a shipped sample, by dataset and index into the 1,000 samples; or one's own
drawing or photo as the model saw it, ``resnet.seen``), the lesioned blocks, the view tab, the Grad-CAM class and
stage, the language and the projector view. ``Scene.query()`` writes only what differs from the page's defaults, so
``?model=clothing&sample=clothing:17&tab=residual`` is a scene; ``Scene.parse()`` reads it back and says what it
could not use, never raising on a hand-edited link.

    >>> Scene.parse("model=digits-plain&lesions=b3.1,b4.0&tab=plain").scene.lesions
    ('b3.1', 'b4.0')
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields, replace
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode

from resnet import seen
from resnet.model import BLOCK_NAMES, STAGES

TABS = ("features", "residual", "plain", "architecture", "train")
LANGUAGE_CODES = ("en", "zh")
SAMPLES = 1000  # shipped samples per dataset (assets/samples)
OFF = ("0", "false", "no", "off", "")  # a flag's values that turn it off (``projector=``; any other turns it on)


@dataclass(frozen=True)
class Scene:
    """The page's state. Fields left at their default are left out of a link."""

    model: str = "digits"  # a model key of the switch ("digits", "clothing-plain", ...)
    sample: tuple[str, int] | None = None  # (dataset, index into its shipped samples); None: an empty canvas
    lesions: tuple[str, ...] = ()  # lesioned blocks, in the network's order
    tab: str = "features"  # the view tab on screen
    target: str = "predicted"  # the Grad-CAM class ("predicted" or a class name)
    stage: str = "b3"  # the stage whose channels are all shown
    language: str = "en"
    projector: bool = False  # the projector view: large type, fewer panels
    # the input as the model saw it (``resnet.seen``: a 28x28 PNG in base64url) where it was not a sample: a
    # drawing or a photo of one's own; last in the link, after what a person reads
    seen: str | None = None

    def query(self) -> str:
        """The scene as a query string, without the fields at their default ("" for the default scene)."""
        default = Scene()
        params: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name):
                continue
            if f.name == "sample":
                params["sample"] = f"{value[0]}:{value[1]}"
            elif f.name == "lesions":
                params["lesions"] = ",".join(value)
            elif f.name == "projector":
                params["projector"] = "1"
            else:
                params[f.name] = str(value)
        return urlencode(params, safe=",:")

    @classmethod
    def parse(cls, query: str | dict[str, str], models: Collection[str] = (), datasets: Collection[str] = ()) -> Parsed:
        """Read a query string (or its parameters). Unknown or invalid parts are skipped and listed in ``problems``.

        ``models`` / ``datasets``: the model keys and datasets this server knows (empty: accept any).
        Other parameters (Gradio's own, ``tour``) are ignored.
        """
        params = dict(parse_qsl(query)) if isinstance(query, str) else dict(query)
        params = {name: value for name, value in params.items() if value}  # "?model=" as if absent (as parse_qsl)
        scene, problems = cls(), []

        def bad(name: str, why: str, *words: str) -> None:
            problems.append(Problem(name, params[name], why, words))

        if "model" in params:
            if not models or params["model"] in models:
                scene = replace(scene, model=params["model"])
            elif (dataset := params["model"].partition(":")[0]) in models:
                # a model trained in another session ("clothing:run-…"): the shipped model of its dataset, which
                # reads the link's input (a sample, or a view in ``seen=``) in its own domain
                scene = replace(scene, model=dataset)
                bad("model", "not on this server; the shipped {dataset} model is shown", dataset)
            else:
                bad("model", "not one of {allowed}", ", ".join(models))
        if "sample" in params:
            dataset, _, index = params["sample"].partition(":")
            if datasets and dataset not in datasets:
                bad("sample", "the dataset is not one of {allowed}", ", ".join(datasets))
            elif not index.isdigit() or int(index) >= SAMPLES:
                bad("sample", "write dataset:index with an index from 0 to {last}", str(SAMPLES - 1))
            else:
                scene = replace(scene, sample=(dataset, int(index)))
                if "model" not in params and (not models or dataset in models):
                    scene = replace(scene, model=dataset)  # "?sample=clothing:3": the model of the sample's dataset
        if "lesions" in params:
            names = [n for n in params["lesions"].split(",") if n]
            unknown = [n for n in names if n not in BLOCK_NAMES]
            if unknown:
                blocks = ", ".join(BLOCK_NAMES)
                problems.append(Problem("lesions", ",".join(unknown), "not among the blocks {blocks}", (blocks,)))
            scene = replace(scene, lesions=tuple(n for n in BLOCK_NAMES if n in names))
        for name, allowed in (("tab", TABS), ("stage", STAGES), ("language", LANGUAGE_CODES)):
            if name in params:
                value = params[name].lower()  # "tab=Train", "stage=B5"; "language=zh-CN" as a browser says it
                value = language_code(value) if name == "language" else value
                if value in allowed:
                    scene = replace(scene, **{name: value})
                else:
                    bad(name, "not one of {allowed}", ", ".join(allowed))
        if params.get("target"):
            scene = replace(scene, target=params["target"])  # checked against the model's classes by the page
        if "projector" in params:
            scene = replace(scene, projector=params["projector"].lower() not in OFF)
        if "seen" in params:
            try:
                seen.from_link(params["seen"])
            except ValueError as exc:
                problems.append(Problem("seen", "…", str(exc)))  # not the whole text: a thousand characters
            else:
                if scene.sample is None:
                    scene = replace(scene, seen=params["seen"])
                else:
                    problems.append(Problem("seen", "…", "the link names a sample too, which is shown"))
        return Parsed(scene, problems)


class Problem(NamedTuple):
    """One part of a link that could not be used."""

    name: str  # the link's parameter
    value: str  # as the link wrote it (anyone's text: the page shows it ``quoted``)
    why: str  # an English sentence with ``{field}``s, one of ``resnet.strings.TEMPLATES``
    words: tuple[str, ...] = ()  # its fields in order: the server's own words (names a link may hold), never the link's


class Parsed(NamedTuple):
    scene: Scene
    problems: list[Problem]  # what in the link could not be used


def quoted(value: str, most: int = 40) -> str:
    """A value from a link as the page shows it: a Markdown code span on one line, at most ``most`` characters.

    Anyone can write a link, and the page shows what it could not use as Markdown: written as it came, a crafted
    link put its own clickable links and pictures (another site's) on the page. A code span shows them as text.
    """
    text = " ".join(value.split()).replace("`", "'")
    text = text if len(text) <= most else text[:most] + "…"
    return f"`{text}`" if text.strip() else '""'


def language_code(tag: str) -> str:
    """A language tag's primary code, as our languages are named: "zh-CN", "zh_Hans", "ZH" → "zh"."""
    return tag.strip().lower().replace("_", "-").partition("-")[0]


def browser_language(accept_language: str | None) -> str:
    """The first of our languages in an ``Accept-Language`` header ("zh-CN,zh;q=0.9,en;q=0.8" → "zh"); else "en".

    Entries are taken by their q weight, highest first (ties in the header's order).
    """
    ranked = []
    for position, entry in enumerate((accept_language or "").split(",")):
        tag, _, params = entry.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-weight, position, language_code(tag)))
    for _, _, code in sorted(ranked):
        if code in LANGUAGE_CODES:
            return code
    return "en"
