"""Every event of the built page: its inputs and outputs against its function's signature and declared returns.

Each callback declares what it returns field by field (``Annotated[type, component class]``, in a named tuple
when there are several); the page builds each output list from the same named tuple. This test reads the built
demo's events and checks, for every one, that the outputs are the components the function declares, in its
order, and that the inputs fill the function's parameters. It builds the page without launching it.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import typing
from collections.abc import Iterator

import gradio as gr
import pytest
from conftest import ROOT

import app


@pytest.fixture(scope="module")
def demo(shipped_ctx) -> gr.Blocks:
    return app.build_demo(shipped_ctx)


def declared_outputs(fn) -> list[tuple[str, type]]:
    """(field, component class) of each output ``fn`` declares in its return annotation (none for ``-> None``)."""
    ret = typing.get_type_hints(inspect.unwrap(fn), include_extras=True)["return"]
    if ret is type(None):
        return []
    if typing.get_origin(ret) in (Iterator, typing.Iterator):  # a generator streams the same tuple
        (ret,) = typing.get_args(ret)
    if typing.get_origin(ret) is typing.Annotated:
        return [("return", ret.__metadata__[0])]
    hints = typing.get_type_hints(ret, include_extras=True)
    return [(name, hints[name].__metadata__[0]) for name in ret._fields]


SPECIAL = (gr.Request, gr.SelectData, gr.EventData)


def test_every_event_fills_the_outputs_its_function_declares(demo):
    events = [dep for dep in demo.fns.values() if dep.fn is not None]
    assert len(events) >= 20
    for dep in events:
        declared = declared_outputs(dep.fn)
        name = dep.fn.__name__
        if declared == [("return", app.EACH)]:  # relabel: one update per component it is given
            assert dep.outputs and all(isinstance(c, gr.blocks.Block) for c in dep.outputs), name
            continue
        assert len(declared) == len(dep.outputs), (
            f"{name}: declares {len(declared)} outputs, wired to {len(dep.outputs)}"
        )
        for (field, cls), component in zip(declared, dep.outputs, strict=True):
            assert isinstance(component, cls), f"{name}.{field} goes to a {type(component).__name__}, not a {cls}"


def test_every_event_gives_its_function_the_inputs_it_takes(demo):
    for dep in (d for d in demo.fns.values() if d.fn is not None):
        hints = typing.get_type_hints(inspect.unwrap(dep.fn))
        params = [p for p in inspect.signature(dep.fn).parameters.values() if hints.get(p.name) not in SPECIAL]
        required = [p for p in params if p.default is inspect.Parameter.empty]
        assert len(required) <= len(dep.inputs) <= len(params), f"{dep.fn.__name__}: {len(dep.inputs)} inputs"


def test_the_declared_outputs_are_read_from_the_annotations():
    """The checker itself: a swapped output list fails."""
    label, status, seen, model_input = gr.Label(), gr.Markdown(), gr.Image(), gr.Image()
    declared = declared_outputs(app.classify)
    assert [f for f, _ in declared] == ["label", "status", "seen", "model_input"]
    swapped = [status, label, seen, model_input]
    assert not all(isinstance(c, cls) for (_, cls), c in zip(declared, swapped, strict=True))
    assert declared_outputs(app.train_live)[0] == ("status", gr.Markdown)
    assert declared_outputs(app.stop_training) == [("return", gr.Markdown)]


def test_importing_the_app_loads_nothing():
    """No weights file is read and no state is created at import: ``python app.py`` (or ``launch()``) does that."""
    code = (
        "import resnet.checkpoint as c\n"
        "reads = []\n"
        "original = c.load_state\n"
        "c.load_state = lambda *a, **k: reads.append(a) or original(*a, **k)\n"
        "import app\n"
        "print(len(reads), [n for n, v in vars(app).items() if isinstance(v, (app.Context, app.ModelRegistry, dict))"
        " and not n.isupper() and not n.startswith('__')])\n"
        "app.Context.create()\n"
        "print(len(reads))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    at_import, created = out.stdout.splitlines()
    from resnet.registry import shipped_weights

    assert at_import == "0 []" and int(created) == len(shipped_weights())  # each shipped model, once, on create()


def test_building_the_page_renders_no_callback_output(demo):
    """A callback run while the page is built (the floor's fixed answers) must return updates, not components: a
    component made inside ``gr.Blocks`` joins the page (it once added a stray "b3 · all channels" picture at the
    bottom of every page)."""
    images = sorted(str(b.label) for b in demo.blocks.values() if isinstance(b, gr.Image) and b.label)
    assert images == sorted(
        [
            "All channels",
            "Block statistics",  # a picture since the chart is blitted (resnet/blockchart.py)
            "Blocks b2.0 … b5.1",
            "Grad-CAM per stage",
            "Image (any size; dark-on-light or light-on-dark)",
            "Model input (64×64)",
            "Stage outputs",
            "What it sees (28×28)",
            "image",
        ]
    ), images
