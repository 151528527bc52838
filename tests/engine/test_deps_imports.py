"""What a script needs installed, read from its text: imports, Windmill's overrides, locks."""

from __future__ import annotations

import platform
import textwrap

import pytest

from engine import DependencyError
from engine.deps.index import index_config, parse_pip_config
from engine.deps.locks import NPM, PYTHON, Lock, is_npm_lock, npm_covers, npm_lock, python_covers, python_lock
from engine.deps.pyimports import python_needs
from engine.deps.tsimports import npm_dependencies, without_versions


def needs(source: str, **kw):
    return python_needs(textwrap.dedent(source), **kw)


def test_imports_map_to_their_pypi_packages():
    found = needs("""
        import yaml
        from PIL import Image
        from sklearn.linear_model import LinearRegression
        import bs4, cv2
        import requests as r
        from google.cloud import storage
        from dateutil import parser
    """)
    assert found.requirements == ("PyYAML", "Pillow", "scikit-learn", "beautifulsoup4", "opencv-python", "requests",
                                  "google-cloud-storage", "python-dateutil")


def test_the_standard_library_wmill_and_what_wmill_uses_need_nothing():
    found = needs("""
        from __future__ import annotations
        import os, json, sqlite3, asyncio
        from collections import OrderedDict
        import wmill
        import httpx
        def main(): return 1
    """)
    assert found.requirements == ()


def test_only_top_level_imports_count_also_inside_top_level_try_and_if():
    found = needs("""
        try:
            import ujson as json
        except ImportError:
            import simplejson as json
        if True:
            import tabulate
        def main():
            import inside_a_function
        class K:
            import inside_a_class
    """)
    assert found.requirements == ("ujson", "simplejson", "tabulate")


def test_a_pin_comment_replaces_the_inferred_requirement_and_several_add_up():
    found = needs("""
        import pandas  # pin: pandas==2.2.0
        import nested.modules # pin: nested-modules
        import dependency # pin: dependency>=0.4 Hard lock on 0.4
        import dependency # pin: dependency<1
        import six
    """)
    assert found.requirements == ("pandas==2.2.0", "nested-modules", "dependency>=0.4", "dependency<1", "six")


def test_a_repin_overrides_the_pins_of_the_workspace_scripts_it_imports():
    scripts = {"f/foo/bar": "import dependency  # pin: dependency==0.4\n",
               "f/foo/baz": "import dependency  # pin: dependency==1.0\nimport six\n"}
    found = needs("""
        import f.foo.bar
        import f.foo.baz
        import dependency  # repin: dependency==1.0
    """, fetch=scripts.get)
    assert found.requirements == ("dependency==1.0", "six")
    assert found.modules == scripts


def test_a_requirements_block_is_the_whole_list_and_extra_requirements_add():
    whole = needs("""
        #requirements:
        #dependency1[optional_module]
        #dependency2>=0.40
        #dependency3@git+https://example.invalid/dependency3.git

        import dependency1
        import pandas
    """)
    assert whole.requirements == ("dependency1[optional_module]", "dependency2>=0.40",
                                  "dependency3@git+https://example.invalid/dependency3.git")
    extra = needs("""
        #extra_requirements:
        #dependency==0.4

        import pandas
    """)
    assert extra.requirements == ("pandas", "dependency==0.4")


def test_pep_723_metadata_lists_the_dependencies():
    found = needs("""
        # /// script
        # requires-python = ">=3.8"
        # dependencies = [
        #     "requests<3",
        #     "numpy==1.26.4",
        # ]
        # ///

        import requests
        import pandas
    """)
    assert found.requirements == ("requests<3", "numpy==1.26.4")


def test_a_python_version_the_script_cannot_run_on_is_refused_naming_where_it_is_asked():
    with pytest.raises(DependencyError, match=r"requires-python.*needs Python >=9.0.*runs .* on Python 3"):
        needs("""
            # /// script
            # requires-python = ">=9.0"
            # ///
        """)
    with pytest.raises(DependencyError, match=r"`#py:` on line 1: the script needs Python >=9"):
        needs("#py: >=9\n")
    assert needs(f"#py: >={platform.python_version()}\nimport six\n").requirements == ("six",)


def test_bad_pep_723_metadata_is_refused_saying_what_is_wrong():
    with pytest.raises(DependencyError, match="not valid TOML"):
        needs("# /// script\n# dependencies = [\n# ///\n")
    with pytest.raises(DependencyError, match="must be a list of requirement strings"):
        needs('# /// script\n# dependencies = "six"\n# ///\n')


def test_workspace_imports_are_given_to_the_job_and_their_own_imports_count():
    scripts = {"f/lib/helpers": "import tabulate\nfrom .deeper import x\n", "f/lib/deeper": "import six\n",
               "u/alice/common": "import yaml\n"}
    found = needs("""
        from f.lib.helpers import shout
        from ..lib import helpers
        from .common import thing
    """, path="u/alice/main", fetch=scripts.get)
    assert found.modules == {"f/lib/helpers": scripts["f/lib/helpers"], "f/lib/deeper": "import six\n",
                             "u/alice/common": "import yaml\n"}
    assert set(found.requirements) == {"tabulate", "six", "PyYAML"}


def test_typescript_npm_imports_are_found_outside_comments():
    source = textwrap.dedent("""
        import * as wmill from "windmill-client@1.147.3";
        import { toWords } from 'number-to-words';
        import type { Thing } from "@scope/types/sub/path";
        export { x } from "re-export";
        import "side-effect";
        const lazy = await import("lazy-pkg");
        const old = require("old-pkg");
        import fs from "node:fs";
        import path from "path";
        import local from "./local";
        import abs from "/f/folder/script.ts";
        import remote from "https://deno.land/x/mod.ts";
        import jsr from "jsr:@std/path";
        import deno from "npm:is-odd@^3";
        // import commented from "commented-out";
        /* import block from "block-comment"; */
    """)
    assert npm_dependencies(source) == {
        "windmill-client": "1.147.3", "number-to-words": "latest", "@scope/types": "latest", "re-export": "latest",
        "side-effect": "latest", "lazy-pkg": "latest", "old-pkg": "latest", "is-odd": "^3"}


def test_bun_is_given_versioned_specifiers_without_their_version_at_the_same_positions():
    source = 'import a from "is-odd@3.0.1";\nimport b from "npm:is-even@1";\nconst x = 1;\n'
    changed = without_versions(source)
    assert changed == 'import a from "is-odd"      ;\nimport b from "npm:is-even@1";\nconst x = 1;\n'
    assert [len(line) for line in changed.splitlines()] == [len(line) for line in source.splitlines()]


def test_a_python_lock_covers_requirements_its_versions_satisfy():
    lock = python_lock(["six==1.17.0", "tabulate==0.9.0", "mypkg @ file:///tmp/mypkg"])
    assert lock.text.startswith("# py3") and lock.pinned == ["six==1.17.0", "tabulate==0.9.0", "mypkg @ file:///tmp/mypkg"]
    assert python_covers(lock, ("six", "tabulate<0.10", "mypkg"))
    assert not python_covers(lock, ("six>=2",))
    assert not python_covers(lock, ("requests",))
    assert Lock(PYTHON, "# py311\n").empty


def test_a_lock_names_its_environment_by_what_it_pins_not_how_it_is_written():
    one = Lock(PYTHON, "# py311\nsix==1.17.0\ntabulate==0.9.0\n")
    other = Lock(PYTHON, "tabulate==0.9.0  # a comment\n\nsix==1.17.0\n")
    assert one.key == other.key != Lock(PYTHON, "six==1.16.0\n").key


def test_an_npm_lock_is_windmills_package_json_and_bun_lock():
    lock = npm_lock({"dependencies": {"is-odd": "^3"}}, '{"lockfileVersion": 1}')
    assert "\n//bun.lock\n" in lock.text and lock.pinned == ["is-odd@^3"]
    assert npm_covers(lock, {"is-odd": "latest"}) and npm_covers(lock, {"is-odd": "^3"})
    assert not npm_covers(lock, {"is-odd": "^2"}) and not npm_covers(lock, {"left-pad": "latest"})
    assert Lock(NPM, '{\n  "dependencies": {}\n}\n//bun.lock\n<empty>').empty
    with pytest.raises(DependencyError, match="package.json part is not JSON"):
        Lock(NPM, "not json\n//bun.lock\n<empty>").pinned
    assert is_npm_lock(lock.text) and is_npm_lock('{"dependencies": {}}')
    assert not is_npm_lock('{"version": "4", "specifiers": {"npm:is-odd@3": "3.0.1"}}')  # deno.lock


def test_uv_is_pointed_at_the_index_pip_is_configured_with():
    listing = "\n".join([
        "global.index-url='https://pypi.example/simple'",
        "global.extra-index-url='file:///opt/a/simple file:///opt/b/simple'",
        "global.find-links='/opt/wheels'",
        "global.cert='/etc/ssl/certs/ca.crt'",
        ":env:.default-timeout='180'",
        "site.index-url='https://mirror.example/simple'",
    ])
    config = index_config(parse_pip_config(listing))
    args = list(config.args)
    assert args[args.index("--index-url") + 1] == "https://mirror.example/simple"  # the later setting wins
    assert [args[i + 1] for i, a in enumerate(args) if a == "--extra-index-url"] == ["file:///opt/a/simple",
                                                                                    "file:///opt/b/simple"]
    assert args[args.index("--find-links") + 1] == "/opt/wheels"
    assert "unsafe-best-match" in args  # pip takes the best version of every index
    assert config.env == {"SSL_CERT_FILE": "/etc/ssl/certs/ca.crt", "UV_HTTP_TIMEOUT": "180"}
