"""microverse.testing is shipped for users: light to import, above the rest, and its judge CLI works."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import microverse

PACKAGE = Path(microverse.__file__).parent


def test_importing_the_testing_modules_pulls_nothing_heavy():
    modules = sorted(f"microverse.testing.{p.stem}" for p in (PACKAGE / "testing").glob("*.py"))
    code = (f"import sys, {', '.join(modules)}; "
            "print(sorted(m for m in ('torch', 'av', 'cv2', 'transformers', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_nothing_in_the_package_imports_microverse_testing():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if PACKAGE / "testing" in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            offenders += [f"{path.relative_to(PACKAGE)}: {n}" for n in names if n.startswith("microverse.testing")]
    assert offenders == []


def test_fake_judge_serves_from_the_command_line():
    import openai

    from microverse.testing.fake_judge import expected_scores

    process = subprocess.Popen([sys.executable, "-m", "microverse.testing.fake_judge", "--delay", "0"],
                               stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        prompt = "Judge.\n1. [positive point] cells divide\n2. [penalty point] blurry\n3. [positive point] nuclei\n"
        client = openai.OpenAI(base_url=url, api_key="dry-run", max_retries=0, timeout=10)
        answer = client.chat.completions.create(model="any", response_format={"type": "json_object"},
                                                messages=[{"role": "user", "content": prompt}])
        assert answer.choices[0].message.content.startswith('{"scores": ' + str(expected_scores(prompt)))
        assert len(expected_scores(prompt)) == 3
    finally:
        process.terminate()
        process.wait(5)


def test_fixed_answer_server_serves_from_the_command_line():
    import openai

    process = subprocess.Popen([sys.executable, "-m", "microverse.testing.fake_openai", "--reply", "cells divide",
                                "--words", "5"], stdout=subprocess.PIPE, text=True)
    try:
        client = openai.OpenAI(base_url=process.stdout.readline().strip(), api_key="dry-run", max_retries=0,
                               timeout=10)
        answer = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "caption this"}])
        assert answer.choices[0].message.content == "cells divide cells divide cells"
        assert answer.model == "m" and answer.usage.completion_tokens > 0
    finally:
        process.terminate()
        process.wait(5)
