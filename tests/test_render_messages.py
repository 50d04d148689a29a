"""The message catalogues: complete for every Rule and derivation in en and zh, and never silently English."""
from __future__ import annotations

import re

import pytest

import derive
from derive import engine
from derive.model import Rule
from derive.render import messages
from derive.render.documents import render
from doc_cases import small_K


def test_catalogues_cover_every_rule_and_every_derivation():
    """When you add a Rule value or a derivation, add its words to messages/en.toml and zh.toml."""
    assert messages.missing_entries(engine.names()) == []


def test_missing_entries_notices_an_unknown_derivation():
    assert "en: derivation no-such title" in messages.missing_entries(["no-such"])


def test_a_missing_rule_text_is_an_error_not_english(monkeypatch):
    table = {**messages.catalogue("zh"), "rules": {}, "derivations": {}}
    monkeypatch.setattr(messages, "catalogue", lambda lang: table)
    with pytest.raises(messages.MissingMessageError):
        messages.rule_label("zh", Rule.FACTOR)


def test_the_cached_copy_of_a_catalogue_is_its_toml_and_a_damaged_copy_is_never_believed(tmp_path, monkeypatch):
    """The first read parses the TOML and keeps a JSON copy named by its hash; the next reads the copy,
    which equals tomllib's parse; a changed catalogue gets a copy of its own; a damaged copy is replaced."""
    import tomllib
    from importlib import resources
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    source = resources.files("derive.render").joinpath("messages", "zh.toml").read_bytes()
    expected = tomllib.loads(source.decode("utf-8"))
    assert messages._parsed(source) == expected
    copy, = (tmp_path / "softmax-derive").glob("messages-*.json")
    with monkeypatch.context() as patched:
        patched.setattr(tomllib, "loads", lambda text: pytest.fail("parsed the TOML although a copy is kept"))
        assert messages._parsed(source) == expected
    changed = source + "\n[words_added_by_the_test]\nnew = \"x\"\n".encode()
    assert messages._parsed(changed)["words_added_by_the_test"] == {"new": "x"}
    assert len(list((tmp_path / "softmax-derive").glob("messages-*.json"))) == 2
    for damage in (b'{"words": {"trunc', b'["not", "a table"]'):
        copy.write_bytes(damage)
        assert messages._parsed(source) == expected
        assert copy.read_bytes() != damage


@pytest.mark.parametrize("name", engine.names())
@pytest.mark.parametrize("fmt", ["latex", "markdown", "fragment"])
def test_chinese_documents_use_chinese_words(name, fmt):
    zh = render(derive.derive(name), fmt, lang="zh")
    en = render(derive.derive(name), fmt, lang="en")
    assert messages.derivation_text("zh", name, "title") in zh
    for english in ("Derivation", "Result", "Setting", "Quotient rule", "Chain rule", "Definition of"):
        assert english not in zh
    assert "Result" in en


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", engine.names())
def test_words_follow_the_notation_too(lang, name):
    """No message hard-codes sigma, z, delta or a plain vector: prose math uses the reader's notation."""
    from derive.render.notation_input import notation_from
    notation = notation_from(flags=["probs=p", "logits=x", "targets=t", "vector=arrow", "delta=indicator"])
    for K in (None, small_K(name)):
        text = render(derive.derive(name, K), "markdown", lang=lang, notation=notation).split("```python")[0]
        for canonical in (r"\sigma", r"\delta", "z_", r"\boldsymbol"):
            assert canonical not in text, canonical
        # An unfilled placeholder (<probs>, <vec:g>, <delta:i,j>); Mermaid's line break <br/> is markup.
        assert not re.search(r"<(?!br/>)[a-z]", text), re.search(r"<(?!br/>)[a-z].{0,20}", text).group(0)


def _strings(table, path=""):
    if isinstance(table, dict):
        for key, value in table.items():
            yield from _strings(value, f"{path}.{key}")
    else:
        yield path, table


# The glossary's term -> the other words for the same concept, which no zh string may use.
_OTHER_WORDS = {
    "雅可比矩阵": [r"雅可比(?!矩阵|积)"],  # 向量–雅可比积 is the VJP
    "提出公因子": ["公因式", "提取公因"],
    "商的求导法则": ["商法则"],
    "克罗内克 δ": ["克罗内克记号", "克罗内克符号", "Kronecker"],  # 克罗内克记号 is the number theorists' (a/n)
}


def test_chinese_reads_as_chinese():
    """One term per concept (the [glossary]) in every zh string, the documents' and the checker's
    ([check]) alike; full-width punctuation outside formulas."""
    zh = messages.catalogue("zh")
    strings = list(_strings({k: v for k, v in zh.items() if k != "glossary"}))
    assert any(path.startswith(".check.") for path, _ in strings)  # the checker's words are read too
    for term in _OTHER_WORDS:
        assert term in zh["glossary"].values(), term
    for path, text in strings:
        prose = "".join(text.split("$")[0::2])
        for term, others in _OTHER_WORDS.items():
            for other in others:
                assert not re.search(other, text), (path, other, term)
        assert "当前和" not in text, path  # the running sum is 累计和 everywhere
        assert "认出" not in text and "写开" not in text, path  # read as translated: 写回, 逐项写出
        if not path.endswith(("item_colon", "justification_colon", "justification_separator")):
            assert not re.search(r"[:;]", prose), path
        assert not re.search(r"[\u4e00-\u9fff][(]|[)][\u4e00-\u9fff]", prose), path


def _teaching_paragraphs(name, lang):
    from derive.render.context import build_context
    from derive.render.notation import Notation
    return build_context(engine.build(name, None), notation=Notation(), lang=lang, syntax="md")["teaching"]["paragraphs"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_derivation_teaches_with_its_own_paragraphs(lang):
    """No two derivations share a teaching paragraph (no template sentence pasted everywhere), and none
    types a number: the numbers are the worked example's, computed."""
    owner = {}
    for name in engine.names():
        paragraphs = _teaching_paragraphs(name, lang)
        assert paragraphs, name
        for paragraph in paragraphs:
            assert paragraph not in owner, f"{name} shares a paragraph with {owner.get(paragraph)}"
            owner[paragraph] = name
            assert not re.search(r"\d\.\d", paragraph), (name, paragraph)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", ["temperature-softmax-jacobian", "linear-softmax-cross-entropy",
                                  "batched-linear-softmax-cross-entropy", "sigmoid-logistic-gradient"])
def test_intuition_then_shortcut_then_frameworks(lang, name):
    table = messages.teaching(lang, name)
    assert set(table) == {"intuition", "shortcut", "frameworks"}
    assert len(_teaching_paragraphs(name, lang)) == 3


def test_a_derivation_without_its_own_frameworks_paragraph_is_missing(monkeypatch):
    table = {**messages.catalogue("zh"), "derivations": {"softmax-vjp": {"title": "t", "intro": "i", "teaching": {}}}}
    monkeypatch.setattr(messages, "catalogue", lambda lang: table)
    assert "zh: derivation softmax-vjp teaching frameworks" in messages.missing_entries(["softmax-vjp"])
    with pytest.raises(messages.MissingMessageError):
        messages.teaching("zh", "softmax-vjp")


def test_greek_in_tex_prose_is_set_as_math():
    # The CJK text fonts have no Greek glyphs: a bare δ in a zh rule label vanished from the PDF.
    from derive.render.escape import tex_text
    escaped = tex_text("克罗内克 δ：σ 与 Σ")
    assert "δ" not in escaped and "σ" not in escaped and "Σ" not in escaped
    assert r"\ensuremath{\delta}" in escaped and r"\ensuremath{\Sigma}" in escaped
