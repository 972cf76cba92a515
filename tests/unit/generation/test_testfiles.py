"""Test file placement per language, and merging new tests without overwriting anything."""

from __future__ import annotations

import pytest

from beastmode.generation.languages import language_for
from beastmode.generation.testfiles import (
    TestFileTarget,
    merge_test_file,
    rust_inline_tests,
    test_file_for,
)

ROOT = "/ws"


@pytest.mark.parametrize(
    ("source", "language_id", "expected"),
    [
        ("/ws/calc.py", "python", "/ws/tests/test_calc.py"),
        ("/ws/src/shop/cart.py", "python", "/ws/tests/test_cart.py"),
        ("/ws/shop/orders/__init__.py", "python", "/ws/tests/test_orders.py"),
        ("/ws/tests/test_calc.py", "python", "/ws/tests/test_calc.py"),
        ("/ws/web/util.js", "javascript", "/ws/web/util.test.js"),
        ("/ws/web/util.mjs", "javascript", "/ws/web/util.test.mjs"),
        ("/ws/web/api.ts", "typescript", "/ws/web/api.test.ts"),
        ("/ws/web/Button.jsx", "javascriptreact", "/ws/web/Button.test.jsx"),
        ("/ws/web/Button.tsx", "typescriptreact", "/ws/web/Button.test.tsx"),
        ("/ws/web/api.spec.ts", "typescript", "/ws/web/api.spec.ts"),
        ("/ws/pkg/server.go", "go", "/ws/pkg/server_test.go"),
        ("/ws/pkg/server_test.go", "go", "/ws/pkg/server_test.go"),
        (
            "/ws/src/main/java/com/acme/Cart.java",
            "java",
            "/ws/src/test/java/com/acme/CartTest.java",
        ),
        (
            "/ws/core/src/main/java/com/acme/Cart.java",
            "java",
            "/ws/core/src/test/java/com/acme/CartTest.java",
        ),
        ("/ws/lib/Cart.java", "java", "/ws/lib/CartTest.java"),
        ("/ws/src/main.c", "c", "/ws/src/main_test.c"),
        ("/ws/src/vec.cpp", "cpp", "/ws/src/vec_test.cpp"),
        ("/ws/src/Cart.cs", "csharp", "/ws/src/Cart_test.cs"),
        ("/ws/lib/cart.rb", "ruby", "/ws/lib/cart_test.rb"),
        ("/ws/src/Cart.php", "php", "/ws/src/Cart_test.php"),
        ("/ws/src/Cart.kt", "kotlin", "/ws/src/Cart_test.kt"),
        ("/ws/Sources/Cart.swift", "swift", "/ws/Sources/Cart_test.swift"),
        ("/ws/cart.lua", "lua", "/ws/cart_test.lua"),
        ("/ws/bin/deploy.sh", "shellscript", "/ws/bin/deploy_test.sh"),
        ("/ws/notes", "plaintext", "/ws/notes_test"),
    ],
)
def test_test_file_for_follows_each_language_convention(
    source: str, language_id: str, expected: str
) -> None:
    target = test_file_for(source, ROOT, language_for(language_id, source))
    assert target == TestFileTarget(expected, inline_module=False)


def test_rust_tests_go_inline_in_the_same_file() -> None:
    source = "/ws/src/lib.rs"
    assert test_file_for(source, ROOT, language_for("rust", source)) == TestFileTarget(
        source, inline_module=True
    )


PYTHON = language_for("python", "a.py")


def test_merge_creates_the_file_when_there_is_none() -> None:
    assert merge_test_file(None, "\n\nimport x\n\ndef test_a(): ...", PYTHON) == (
        "import x\n\ndef test_a(): ...\n"
    )


def test_merge_python_appends_and_adds_only_missing_names() -> None:
    existing = (
        '"""Tests."""\nimport pytest\n\nfrom app.calc import add\n\n\n'
        "def test_add():\n    assert add(1, 2) == 3\n"
    )
    generated = (
        '"""Tests for calc."""\nimport pytest\nfrom app.calc import add, sub\n\n\n'
        "def test_sub():\n    assert sub(2, 1) == 1\n"
    )
    assert merge_test_file(existing, generated, PYTHON) == (
        '"""Tests."""\nimport pytest\n\nfrom app.calc import add\nfrom app.calc import sub\n\n\n'
        "def test_add():\n    assert add(1, 2) == 3\n\n\n"
        "def test_sub():\n    assert sub(2, 1) == 1\n"
    )


def test_merge_never_shadows_an_existing_test() -> None:
    existing = "def test_add():\n    assert True\n"
    generated = "def test_add():\n    assert 1\n\n\ndef test_add_2():\n    assert 2\n"
    assert merge_test_file(existing, generated, PYTHON) == (
        "def test_add():\n    assert True\n\n\n"
        "def test_add_3():\n    assert 1\n\n\ndef test_add_2():\n    assert 2\n"
    )


def test_merge_keeps_every_existing_line() -> None:
    existing = "import os\nimport pytest\n\n\ndef test_a():\n    assert os.sep\n"
    merged = merge_test_file(existing, "import os\n\n\ndef test_b():\n    pass\n", PYTHON)
    assert merged.startswith(existing)
    assert merged.count("import os") == 1


def test_merge_typescript_drops_bindings_already_imported() -> None:
    existing = (
        "import { add } from './calc';\nimport React from 'react';\n\ntest('adds', () => {});\n"
    )
    generated = (
        "import React, { useState } from 'react';\nimport { add, sub } from './calc';\n"
        "import { render } from '@testing-library/react';\n\ntest('subs', () => {});\n"
    )
    assert merge_test_file(existing, generated, language_for("typescript", "a.ts")) == (
        "import { add } from './calc';\nimport React from 'react';\n"
        "import { useState } from 'react';\nimport { sub } from './calc';\n"
        "import { render } from '@testing-library/react';\n\n"
        "test('adds', () => {});\n\ntest('subs', () => {});\n"
    )


def test_merge_go_adds_specs_to_the_import_block() -> None:
    existing = 'package calc\n\nimport (\n\t"testing"\n)\n\nfunc TestAdd(t *testing.T) {\n}\n'
    generated = (
        'package calc\n\nimport (\n\t"fmt"\n\t"testing"\n)\n\n'
        "func TestAdd(t *testing.T) {\n\tfmt.Println()\n}\n"
    )
    assert merge_test_file(existing, generated, language_for("go", "a.go")) == (
        'package calc\n\nimport (\n\t"testing"\n\t"fmt"\n)\n\n'
        "func TestAdd(t *testing.T) {\n}\n\n"
        "func TestAdd_2(t *testing.T) {\n\tfmt.Println()\n}\n"
    )


def test_merge_go_single_import_line() -> None:
    existing = 'package calc\n\nimport "testing"\n\nfunc TestA(t *testing.T) {}\n'
    generated = 'package calc\n\nimport "strings"\n\nfunc TestB(t *testing.T) {}\n'
    assert merge_test_file(existing, generated, language_for("go", "a.go")) == (
        'package calc\n\nimport "testing"\nimport "strings"\n\n'
        "func TestA(t *testing.T) {}\n\nfunc TestB(t *testing.T) {}\n"
    )


def test_merge_java_puts_new_methods_inside_the_existing_class() -> None:
    existing = (
        "package a;\n\nimport org.junit.jupiter.api.Test;\n\n"
        "class FooTest {\n    @Test\n    void adds() {\n    }\n}\n"
    )
    generated = (
        "package a;\n\nimport org.junit.jupiter.api.Test;\n"
        "import static org.junit.jupiter.api.Assertions.assertEquals;\n\n"
        "class FooTest {\n    @Test\n    void adds() {\n        assertEquals(1, 1);\n    }\n}\n"
    )
    assert merge_test_file(existing, generated, language_for("java", "A.java")) == (
        "package a;\n\nimport org.junit.jupiter.api.Test;\n"
        "import static org.junit.jupiter.api.Assertions.assertEquals;\n\n"
        "class FooTest {\n    @Test\n    void adds() {\n    }\n\n"
        "    @Test\n    void adds_2() {\n        assertEquals(1, 1);\n    }\n}\n"
    )


def test_merge_java_accepts_bare_methods() -> None:
    existing = "class FooTest {\n    @Test\n    void a() {}\n}\n"
    merged = merge_test_file(existing, "@Test\nvoid b() {}\n", language_for("java", "A.java"))
    assert (
        merged == "class FooTest {\n    @Test\n    void a() {}\n\n    @Test\n    void b() {}\n}\n"
    )


def test_merge_into_existing_file_without_imports_puts_them_at_the_top() -> None:
    existing = '"""Doc."""\n\n\ndef test_a():\n    pass\n'
    merged = merge_test_file(existing, "import math\n\n\ndef test_b():\n    pass\n", PYTHON)
    assert merged == (
        '"""Doc."""\n\nimport math\n\n\n\ndef test_a():\n    pass\n\n\ndef test_b():\n    pass\n'
    )


RUST_SOURCE = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n"
RUST_MODULE = (
    "#[cfg(test)]\nmod tests {\n    use super::*;\n\n"
    "    #[test]\n    fn adds() {\n        assert_eq!(add(1, 2), 3);\n    }\n}\n"
)


@pytest.mark.parametrize(
    "generated",
    [
        pytest.param(RUST_MODULE, id="whole-module"),
        pytest.param(
            "#[test]\nfn adds() {\n    assert_eq!(add(1, 2), 3);\n}\n", id="bare-test-functions"
        ),
    ],
)
def test_rust_inline_tests_create_the_module(generated: str) -> None:
    assert rust_inline_tests(RUST_SOURCE, generated) == RUST_SOURCE + "\n" + RUST_MODULE


def test_rust_inline_tests_merge_into_the_existing_module() -> None:
    source = RUST_SOURCE + "\n" + RUST_MODULE
    generated = (
        "mod tests {\n    use super::*;\n    use std::fmt;\n\n"
        "    #[test]\n    fn adds() {\n        assert_eq!(add(0, 0), 0);\n    }\n}\n"
    )
    assert rust_inline_tests(source, generated) == (
        RUST_SOURCE + "\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n"
        "    #[test]\n    fn adds() {\n        assert_eq!(add(1, 2), 3);\n    }\n\n"
        "    use std::fmt;\n\n"
        "    #[test]\n    fn adds_2() {\n        assert_eq!(add(0, 0), 0);\n    }\n}\n"
    )


def test_merge_test_file_for_rust_delegates_to_inline_module() -> None:
    rust = language_for("rust", "a.rs")
    assert merge_test_file(RUST_SOURCE, RUST_MODULE, rust) == RUST_SOURCE + "\n" + RUST_MODULE
