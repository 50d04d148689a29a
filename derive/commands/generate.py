"""`softmax-derive generate`: derive, verify, render every document, then publish them all at once.

The output directory is checked before any work; documents (and the PDF builds' work directories)
go into a staging directory inside it, and only when everything is ready are they renamed into place.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import click

FORMAT_CHOICES = ("latex", "fragment", "markdown", "json", "pdf", "all")
# The default is fast and needs no TeX: PDF only when asked for.
DEFAULT_FORMATS = ("latex", "fragment", "markdown", "json")
ALL_FORMATS = (*DEFAULT_FORMATS, "pdf")


@click.command()
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every derivation.")
@click.option("--K", "K", default="symbolic", show_default=True, help="'symbolic' or a number of classes 2..512.")
@click.option("--D", "D", default=None, help="'symbolic' or a number of input features, for derivations with a "
              "linear layer (linear-softmax-cross-entropy, batched-...), or the head dimension of "
              "attention-backward; needs a concrete --K.")
@click.option("--N", "N", default=None, help="'symbolic' or a batch size, for batched-linear-softmax-cross-entropy "
              "(the number of queries for attention-backward); "
              "needs a concrete --K.")
@click.option("--format", "formats", type=click.Choice(FORMAT_CHOICES), multiple=True,
              help="Repeatable. Default: latex, fragment, markdown, json; 'all' adds pdf.")
@click.option("--lang", type=click.Choice(("en", "zh")), default="en", show_default=True,
              help="Language of the documents; zh files go to DIR/zh/.")
@click.option("--notation", "notation_file", type=click.Path(dir_okay=False, path_type=Path),
              help="TOML notation file ([symbols] probs = 'p', vector_style, delta).")
@click.option("--symbol", "symbols", multiple=True, metavar="ROLE=TEX",
              help="Repeatable: probs, logits, targets, loss, classes, i, j, k; vector=bold|arrow|plain; "
                   "delta=kronecker|indicator.")
@click.option("--label-prefix", default=None, help="Prefix of every \\label (default: the derivation's name).")
@click.option("--teaching/--no-teaching", default=True, show_default=True,
              help="Include the teaching section (intuition, shortcut, worked K = 3 example, frameworks).")
@click.option("-o", "--output", default="output", show_default=True, help="Directory, or - for stdout (one text format; json by default).")
def generate(names, all_, K, D, N, formats, lang, notation_file, symbols, label_prefix, teaching, output) -> None:
    """Derive NAME (or --all), verify every step, and write NAME.tex, NAME.fragment.tex, NAME.md, NAME.json[, NAME.pdf]."""
    from .. import engine
    from ..errors import UsageError
    from ..files import check_output_dir, publish, staging
    from ..render.notation_input import notation_from

    chosen = _chosen_names(names, all_, engine.names())
    # To stdout: one text format, JSON unless told otherwise (what `-o -` has always printed).
    chosen_formats = ("json",) if output == "-" and not formats else _formats(formats)
    K_value = engine.parse_K(K)
    sizes = {"D": engine.parse_D(D), "N": engine.parse_N(N)}
    notation = notation_from(notation_file, symbols)
    if output == "-" and (len(chosen_formats) != 1 or "pdf" in chosen_formats):
        raise UsageError("-o - prints one text format (json by default); give a directory with -o for more or pdf")
    directory = None if output == "-" else check_output_dir(Path(output) / lang if lang != "en" else Path(output))
    with staging(directory) if directory else contextlib.nullcontext() as stage:
        documents = _documents(chosen, all_, K_value, sizes, chosen_formats, notation=notation, lang=lang,
                               label_prefix=label_prefix, stage=stage, teaching=teaching)
        if directory is None:
            for _file, content in documents:
                click.echo(content, nl=False)
            return
        for path in publish(documents, directory, stage):
            click.echo(str(path))


def _documents(chosen, all_, K_value, sizes, formats, *, notation, lang, label_prefix, stage, teaching) -> list:
    """(file name, content) of every document, rendered before anything is published.

    Every name is checked first (one clear line for a size it does not take); the derivations are
    then derived, verified and rendered in worker processes (commands.parallel), collected in order."""
    from .. import engine
    from ..verify import build_verified
    from ..verify.reporting import steps_reported
    from .parallel import in_order
    from .progress import progress, steps_of_one

    jobs = [job for job in (_job(name, all_, K_value, sizes) for name in chosen) if job is not None]

    def work(index):
        name, given = jobs[index]
        prefix = label_prefix if label_prefix is None or len(chosen) == 1 else f"{label_prefix}-{name}"
        return _render_all(build_verified(name, K_value, **given), formats, notation=notation, lang=lang,
                           label_prefix=prefix, stage=stage, teaching=teaching)

    documents = []
    if len(jobs) == 1:  # one derivation: its own steps on a terminal (verify.reporting), in this process
        with steps_of_one(f"deriving {jobs[0][0]}") as listener, steps_reported(listener):
            return work(0)
    # A derivation's work grows with its sizes (K; K and D; K, D and N): those with more start first.
    weight = lambda index: len(engine.lookup(jobs[index][0]).sizes)
    with in_order(work, len(jobs), weight) as rendered, progress("deriving", total=len(jobs)) as bar:
        for (name, _given), files in zip(jobs, rendered):
            documents += files
            bar.advance(name)
    return documents


def _job(name, all_, K_value, sizes):
    """(name, the sizes it takes) to derive, or None for a derivation --all skips (said on stderr);
    a size the derivation does not take, or not in seconds, is an error when it was named."""
    from .. import engine
    from ..errors import UsageError
    entry = engine.lookup(name)
    if not entry.supports_K(K_value):
        if not all_:
            raise UsageError(f"{name} supports {entry.supported_K}, not K = {K_value}")
        click.echo(f"skipped {name}: it supports {entry.supported_K}", err=True)
        return None
    for size, value in sizes.items():
        if value is not None and size not in entry.sizes and not all_:
            raise UsageError(f"{name} has no size {size}: --{size} applies to "
                             + ", ".join(e.name for e in engine.REGISTRY.values() if size in e.sizes))
    given = {size: value for size, value in sizes.items() if size in entry.sizes}
    concrete = {} if K_value is None else {"K": K_value, **{size: engine.DEFAULT_SIZES[size] if value is None else value
                                                             for size, value in given.items()}}
    if all_ and not entry.is_fast(concrete):
        click.echo(f"skipped {name}: not fast yet at these sizes (" + ", ".join(
            f"{label} <= {limit}" for label, limit in entry.fast_sizes) + ")", err=True)
        return None
    entry.check_fast(concrete)
    return name, given


def _render_all(derivation, formats, *, notation, lang, label_prefix, stage, teaching) -> list[tuple[str, str | bytes]]:
    from ..render.documents import file_name, render
    from ..render.pdf import compile_pdf

    rendered: dict[str, str | bytes] = {}
    for fmt in formats:
        if fmt == "pdf":
            latex = rendered.get("latex") or render(derivation, "latex", notation=notation, lang=lang,
                                                    label_prefix=label_prefix, teaching=teaching)
            rendered[fmt] = compile_pdf(latex, lang=lang, jobname=derivation.name,
                                        workdir=stage / f"latex-{derivation.name}")
        else:
            rendered[fmt] = render(derivation, fmt, notation=notation, lang=lang, label_prefix=label_prefix,
                                   teaching=teaching)
    return [(file_name(derivation.name, fmt), content) for fmt, content in rendered.items()]


def _formats(formats: tuple[str, ...]) -> tuple[str, ...]:
    if not formats:
        return DEFAULT_FORMATS
    if "all" in formats:
        return ALL_FORMATS
    return tuple(dict.fromkeys(formats))


def _chosen_names(names, all_, known) -> tuple:
    from ..engine import lookup
    from ..errors import UsageError
    if all_ and names:
        raise UsageError("give derivation names or --all, not both")
    if all_:
        return tuple(known)
    if not names:
        raise UsageError(f"name a derivation ({', '.join(known)}) or use --all")
    for name in names:
        lookup(name)
    return tuple(names)
