"""Script signatures become JSON Schema by parsing the source, never by running it."""

from __future__ import annotations

import textwrap

import pytest

from engine.errors import ScriptLoadError
from engine.runners import SUPPORTED_LANGUAGES, check_script, script_schema
from engine.runners.signature import step_entry

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema(language: str, source: str) -> dict:
    return script_schema(language, textwrap.dedent(source))


def python_param(annotation: str) -> tuple[dict, bool]:
    """The schema of one annotated Python parameter, and whether it is required."""
    found = schema("python3", f"from typing import *\nimport datetime\ndef main(x: {annotation}): pass\n")
    return found["properties"]["x"], found["required"] == ["x"]


def ts_param(declaration: str) -> tuple[dict, bool]:
    """The schema of one TypeScript parameter `x...`, and whether it is required."""
    found = schema("bun", f"export async function main({declaration}) {{}}\n")
    return found["properties"]["x"], found["required"] == ["x"]


def test_supported_languages():
    assert SUPPORTED_LANGUAGES == {"python3", "bash", "bun", "deno", "nativets", "postgresql", "duckdb"}


@pytest.mark.parametrize("language", ["ruby", "python", "typescript", ""])
def test_unsupported_language_is_refused_naming_the_supported_ones(language):
    for read in (check_script, script_schema):
        with pytest.raises(ScriptLoadError, match="Millrace runs: bash, bun, deno, duckdb, nativets, postgresql, python3"):
            read(language, "whatever")


# --- Python ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        ("str", {"type": "string"}),
        ("int", {"type": "integer"}),
        ("float", {"type": "number"}),
        ("bool", {"type": "boolean"}),
        ("list", {"type": "array"}),
        ("dict", {"type": "object"}),
        ("list[int]", {"type": "array", "items": {"type": "integer"}}),
        ("List[str]", {"type": "array", "items": {"type": "string"}}),
        ("tuple[int, ...]", {"type": "array", "items": {"type": "integer"}}),
        ("dict[str, float]", {"type": "object", "additionalProperties": {"type": "number"}}),
        ("Dict[str, Any]", {"type": "object"}),
        ('Literal["fast", "slow"]', {"type": "string", "enum": ["fast", "slow"]}),
        ("Literal[1, 2, 3]", {"type": "integer", "enum": [1, 2, 3]}),
        ("datetime.datetime", {"type": "string", "format": "date-time"}),
        ("datetime.date", {"type": "string", "format": "date"}),
        ("bytes", {"type": "string", "contentEncoding": "base64"}),
        ("Union[int, str]", {"anyOf": [{"type": "integer"}, {"type": "string"}]}),
        ('"list[str]"', {"type": "array", "items": {"type": "string"}}),
        ("Annotated[int, 'a note']", {"type": "integer"}),
        ("Any", {}),
        ("SomeClass", {}),
    ],
)
def test_python_annotation_becomes_a_required_typed_property(annotation, expected):
    assert python_param(annotation) == (expected, True)


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        ("Optional[str]", {"type": "string"}),
        ("int | None", {"type": "integer"}),
        ("None | bool", {"type": "boolean"}),
        ("Union[float, None]", {"type": "number"}),
        ("Optional[datetime.datetime]", {"type": "string", "format": "date-time"}),
        ('Optional[Literal["a", "b"]]', {"type": "string", "enum": ["a", "b"]}),
        ('"Optional[list[int]]"', {"type": "array", "items": {"type": "integer"}}),
    ],
)
def test_python_optional_is_typed_but_not_required(annotation, expected):
    assert python_param(annotation) == (expected, False)


def test_python_defaults_are_recorded_and_make_parameters_optional():
    found = schema(
        "python3",
        """
        def main(name: str, count: int = 3, ratio=0.5, flag=False, tags=("a", "b"),
                 opts: dict = {"k": 1}, neg: float = -1.5, nothing=None, computed=len("x"),
                 *, mode: str = "fast"):
            pass
        """,
    )
    assert found["properties"] == {
        "name": {"type": "string"},
        "count": {"type": "integer", "default": 3},
        "ratio": {"type": "number", "default": 0.5},
        "flag": {"type": "boolean", "default": False},
        "tags": {"type": "array", "default": ["a", "b"]},
        "opts": {"type": "object", "default": {"k": 1}},
        "neg": {"type": "number", "default": -1.5},
        "nothing": {},
        "computed": {},
        "mode": {"type": "string", "default": "fast"},
    }
    assert found["required"] == ["name"]
    assert found["order"] == ["name", "count", "ratio", "flag", "tags", "opts", "neg", "nothing",
                              "computed", "mode"]


def test_python_schema_is_a_2020_12_object_schema():
    found = schema("python3", "def main(a: int): pass\n")
    assert found == {"$schema": DIALECT, "type": "object", "properties": {"a": {"type": "integer"}},
                     "required": ["a"], "order": ["a"]}


def test_python_async_main_positional_only_and_variadics():
    found = schema("python3", "async def main(a: int, /, b: str, *args, c: bool, **kwargs): pass\n")
    assert found["order"] == ["a", "b", "c"]
    assert found["required"] == ["a", "b", "c"]


def test_python_google_docstring_describes_arguments():
    found = schema(
        "python3",
        '''
        def main(source: str, limit: int = 10, verbose: bool = False):
            """Copy rows.

            Longer text: with a colon that is not an argument.

            Args:
                source: the table to read. Example: users
                limit (int): most rows to copy,
                    counted after filtering.

            Returns:
                verbose: not an argument description.
            """
        ''',
    )
    props = found["properties"]
    assert props["source"]["description"] == "the table to read. Example: users"
    assert props["limit"]["description"] == "most rows to copy, counted after filtering."
    assert "description" not in props["verbose"]


def test_python_sphinx_docstring_describes_arguments():
    found = schema(
        "python3",
        '''
        def main(path, mode="r"):
            """Open it.

            :param path: where the file is
            :param str mode: how to open it
            """
        ''',
    )
    assert found["properties"]["path"] == {"description": "where the file is"}
    assert found["properties"]["mode"]["description"] == "how to open it"


def test_python_last_top_level_main_counts():
    found = schema(
        "python3",
        """
        def main(old: int): pass

        class Tool:
            def main(self, method: str): pass

        def main(new: str): pass
        """,
    )
    assert found["order"] == ["new"]


def test_python_script_is_parsed_never_run():
    found = schema("python3", "raise SystemExit('ran!')\nimport no_such_module\ndef main(a: int): pass\n")
    assert found["order"] == ["a"]


def test_python_without_main_takes_no_arguments_but_is_refused_as_a_step():
    source = "def helper(x: int):\n    return x\n"
    assert schema("python3", source)["properties"] == {}
    with pytest.raises(ScriptLoadError) as refused:
        check_script("python3", source)
    assert "no top-level `def main(...)`" in str(refused.value)
    assert "async def main" in str(refused.value)


@pytest.mark.parametrize("source", ["main = lambda: 1\n", "if True:\n    def main(): pass\n"])
def test_python_main_must_be_a_top_level_def(source):
    with pytest.raises(ScriptLoadError, match="no top-level"):
        check_script("python3", source)


def test_python_syntax_error_is_refused_naming_the_line():
    for read in (check_script, script_schema):
        with pytest.raises(ScriptLoadError, match="syntax error at line 2"):
            read("python3", "def main():\n    return (\n")


@pytest.mark.parametrize("source", ["def main(): pass\n", "async def main(x=1):\n    return x\n"])
def test_python_with_main_is_accepted(source):
    check_script("python3", source)


# --- TypeScript / JavaScript ----------------------------------------------------------


@pytest.mark.parametrize(
    ("declaration", "expected"),
    [
        ("x: string", {"type": "string"}),
        ("x: number", {"type": "number"}),
        ("x: boolean", {"type": "boolean"}),
        ("x: Date", {"type": "string", "format": "date-time"}),
        ("x: string[]", {"type": "array", "items": {"type": "string"}}),
        ("x: Array<number>", {"type": "array", "items": {"type": "number"}}),
        ("x: number[][]", {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}),
        ('x: "a" | "b" | "c"', {"type": "string", "enum": ["a", "b", "c"]}),
        ("x: 'a' | 'b'", {"type": "string", "enum": ["a", "b"]}),
        ('x:\n    | "up"\n    | "down"', {"type": "string", "enum": ["up", "down"]}),
        ("x: 1 | 2", {"type": "number", "enum": [1, 2]}),
        ('x: ("a" | "b")[]', {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}),
        ("x: string | number", {"anyOf": [{"type": "string"}, {"type": "number"}]}),
        ("x: Record<string, boolean>", {"type": "object", "additionalProperties": {"type": "boolean"}}),
        (
            "x: { name: string; age?: number, tags: string[] }",
            {"type": "object",
             "properties": {"name": {"type": "string"}, "age": {"type": "number"},
                            "tags": {"type": "array", "items": {"type": "string"}}},
             "required": ["name", "tags"]},
        ),
        (
            "x: { inner: { deep: boolean }[] }",
            {"type": "object", "required": ["inner"],
             "properties": {"inner": {"type": "array", "items": {
                 "type": "object", "properties": {"deep": {"type": "boolean"}}, "required": ["deep"]}}}},
        ),
        ("x: (n: number) => void", {}),
        ("x", {}),
    ],
)
def test_ts_type_becomes_a_required_typed_property(declaration, expected):
    assert ts_param(declaration) == (expected, True)


@pytest.mark.parametrize(
    ("declaration", "expected"),
    [
        ("x?: string", {"type": "string"}),
        ("x: string | undefined", {"type": "string"}),
        ("x: number | null", {"type": "number"}),
        ('x?: "a" | "b"', {"type": "string", "enum": ["a", "b"]}),
        ('x = "hello"', {"type": "string", "default": "hello"}),
        ("x = 3", {"type": "number", "default": 3}),
        ("x = -1.5e3", {"type": "number", "default": -1500.0}),
        ("x = true", {"type": "boolean", "default": True}),
        ("x: number = 10", {"type": "number", "default": 10}),
        ('x: "fast" | "slow" = "slow"', {"type": "string", "enum": ["fast", "slow"], "default": "slow"}),
        ("x: string[] = ['a', 'b']", {"type": "array", "items": {"type": "string"}, "default": ["a", "b"]}),
        ("x = { depth: 2, label: 'top', }", {"type": "object", "default": {"depth": 2, "label": "top"}}),
        ('x = "a, b)"', {"type": "string", "default": "a, b)"}),
        ("x = `plain template`", {"type": "string", "default": "plain template"}),
        ("x = Date.now()", {}),
        ("x: number = Date.now()", {"type": "number"}),
        ("x = null", {}),
    ],
)
def test_ts_optional_and_default_parameters_are_not_required(declaration, expected):
    assert ts_param(declaration) == (expected, False)


def test_ts_schema_keeps_declaration_order_and_required():
    found = schema(
        "bun",
        """
        export async function main(
          name: string,
          count = 1,
          label?: string,
          mode: "a" | "b",  // a trailing comment, (with parentheses)
          /* a block comment, too */ ok: boolean,
          ...rest: string[]
        ): Promise<string> {
          return name;
        }
        """,
    )
    assert found["$schema"] == DIALECT
    assert found["type"] == "object"
    assert found["order"] == ["name", "count", "label", "mode", "ok"]
    assert found["required"] == ["name", "mode", "ok"]


def test_ts_aliases_and_interfaces_of_the_script_are_resolved():
    found = schema(
        "bun",
        """
        type Mode = "fast" | "slow";
        interface Options {
          depth: number;
          label?: string;
        }
        export async function main(mode: Mode, options: Options) {}
        """,
    )
    assert found["properties"] == {
        "mode": {"type": "string", "enum": ["fast", "slow"]},
        "options": {"type": "object", "properties": {"depth": {"type": "number"},
                                                     "label": {"type": "string"}},
                    "required": ["depth"]},
    }


def test_ts_jsdoc_describes_parameters():
    found = schema(
        "bun",
        """
        /**
         * Greets someone.
         * @param name - who to greet
         * @param {number} [times] how often
         */
        export function main(name: string, times = 1) {}
        """,
    )
    assert found["properties"]["name"]["description"] == "who to greet"
    assert found["properties"]["times"]["description"] == "how often"


@pytest.mark.parametrize(
    "source",
    [
        "export async function main(a: string) {}",
        "export function main(a: string) {}",
        "export default async function main(a: string) {}",
        "export const main = async (a: string) => a;",
        "export const main = function (a: string) { return a };",
        "async function main(a: string) {}\nexport { main };",
        "export async function main<T>(a: string): Promise<T> { return null as T }",
    ],
)
def test_ts_exported_main_in_any_form_is_found(source):
    for language in ("bun", "deno", "nativets"):
        check_script(language, source)
    assert script_schema("bun", source)["order"] == ["a"]


@pytest.mark.parametrize(
    "source",
    [
        "async function main(a: string) {}",
        "// export async function main(a: string) {}\nexport const x = 1;",
        'const text = "export function main() {}";',
        "export async function mainly() {}",
    ],
)
def test_ts_without_exported_main_is_refused(source):
    assert script_schema("bun", source)["properties"] == {}
    with pytest.raises(ScriptLoadError, match="exports no function main") as refused:
        check_script("deno", source)
    assert "export async function main" in str(refused.value)
    assert str(refused.value).startswith("deno script")


PREPROCESSORS = [
    ("python3", "def preprocessor(event):\n    return {'x': event}\n", "event"),
    ("bun", "export async function preprocessor(event: object) {\n  return { x: event }\n}\n", "event"),
    ("deno", "export function preprocessor(wm_trigger) { return {} }", "wm_trigger"),
]


@pytest.mark.parametrize(("language", "source", "parameter"), PREPROCESSORS)
def test_a_preprocessor_step_may_define_preprocessor_instead_of_main(language, source, parameter):
    check_script(language, source, preprocessor=True)
    assert step_entry(language, source, preprocessor=True) == "preprocessor"
    assert step_entry(language, source) == "main"
    assert script_schema(language, source, preprocessor=True)["order"] == [parameter]
    assert script_schema(language, source)["order"] == []
    with pytest.raises(ScriptLoadError, match="no function main|no top-level `def main"):
        check_script(language, source)


@pytest.mark.parametrize(("language", "source"), [
    ("python3", "def main(x):\n    return x\n"),
    ("bun", "export async function main(x: number) { return x }"),
])
def test_a_preprocessor_step_with_only_main_calls_main(language, source):
    check_script(language, source, preprocessor=True)
    assert step_entry(language, source, preprocessor=True) == "main"


def test_a_preprocessor_step_without_either_function_is_refused_naming_both():
    with pytest.raises(ScriptLoadError, match="defines no function `preprocessor` \\(nor `main`\\)"):
        check_script("bun", "export const preprocessing = 1", preprocessor=True)
    with pytest.raises(ScriptLoadError, match="syntax error at line 1"):
        check_script("python3", "def preprocessor(:\n", preprocessor=True)


def test_ts_commented_out_main_does_not_count():
    found = schema(
        "bun",
        """
        // export async function main(old: number) {}
        /* export async function main(older: boolean) {} */
        export async function main(current: string) {}
        """,
    )
    assert found["order"] == ["current"]


# --- bash -----------------------------------------------------------------------------


def test_bash_positional_variables_become_string_properties_in_position_order():
    found = schema(
        "bash",
        """
        set -euo pipefail
        third="${3:-"two words"}"
        first="$1"
        local second=${2}
        export fourth="${4-plain}"  # a comment
        again="$1"
        not_an_arg='$5'
        echo "$first $second $third $fourth"
        """,
    )
    assert found == {
        "$schema": DIALECT,
        "type": "object",
        "properties": {
            "first": {"type": "string"},
            "second": {"type": "string"},
            "third": {"type": "string", "default": "two words"},
            "fourth": {"type": "string", "default": "plain"},
        },
        "required": ["first", "second"],
        "order": ["first", "second", "third", "fourth"],
    }


def test_bash_needs_no_main():
    check_script("bash", "echo hello\n")
    assert schema("bash", "echo hello\n")["properties"] == {}
