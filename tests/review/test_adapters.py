"""Details learnt on the public catalogue: each once a false positive or a blind spot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from catalog.review import review
from catalog.review.jsscan import JsFile, mask
from catalog.review.loaders import line_at, load_yaml


def rules(report: Any) -> list[tuple[str, int | None]]:
    return sorted((f.rule, f.line) for f in report.findings)


def test_path_join_segment_with_leading_slash(tmp_path: Path, kit: Any) -> None:
    root = kit.base_pattern("cdk-orders", tmp_path)
    stack = root / "lib" / "orders-stack.ts"
    stack.write_text(
        stack.read_text().replace(
            '"functions", "reserve", "index.ts"', '"/functions/reserve/index.ts"'
        )
    )
    assert rules(review([root], cfn_lint=False, cwd=root)) == []
    stack.write_text(
        stack.read_text().replace(
            '"/functions/reserve/index.ts"', '"/../functions/reserve/index.ts"'
        )
    )
    assert rules(review([root], cfn_lint=False, cwd=root)) == [("PATH001", 27)]


def test_yaml_booleans_follow_yaml_1_2() -> None:
    data = load_yaml("Choices:\n  - Next: Yes\n  - Next: No\nEnd: true\nTime: 1:20\n")
    assert data == {"Choices": [{"Next": "Yes"}, {"Next": "No"}], "End": True, "Time": "1:20"}
    assert line_at(data, ["Choices", 1, "Next"]) == 3


def test_hidden_folders_are_not_reviewed(tmp_path: Path, kit: Any) -> None:
    root = kit.base_pattern("sam-orders", tmp_path)
    history = root / ".aws-composer" / "20221206T025957326"
    history.mkdir(parents=True)
    (history / "template.yaml").write_text(
        (root / "template.yaml").read_text().replace("python3.13", "python3.8")
    )
    assert rules(review([root], cfn_lint=False, cwd=root)) == []


def test_template_file_named_after_the_folder_is_fine(tmp_path: Path, kit: Any) -> None:
    root = kit.base_pattern("cdk-orders", tmp_path)
    (root / "lib" / "orders-stack.ts").rename(root / "lib" / "cdk-orders-stack.ts")
    meta = root / "example-pattern.json"
    meta.write_text(meta.read_text().replace('"lib/orders-stack.ts"', '"lib/cdk-orders-stack.ts"'))
    assert rules(review([root], cfn_lint=False, cwd=root)) == []


def test_inline_code_and_wrapper_handlers_need_no_file(tmp_path: Path, kit: Any) -> None:
    root = kit.base_pattern("sam-orders", tmp_path)
    template = root / "template.yaml"
    text = template.read_text().replace(
        "      Handler: app.handler\n",
        "      Handler: index.handler\n      InlineCode: |\n        def handler(e, c): pass\n",
    )
    template.write_text(text)
    assert rules(review([root], cfn_lint=False, cwd=root)) == []
    template.write_text(
        text.replace("Handler: index.handler", "Handler: run.sh").replace(
            "      InlineCode: |\n        def handler(e, c): pass\n", ""
        )
    )
    assert rules(review([root], cfn_lint=False, cwd=root)) == []


def test_heredoc_terminator_with_trailing_blanks_parses(tmp_path: Path, kit: Any) -> None:
    root = kit.base_pattern("tf-orders", tmp_path)
    (root / "terraform" / "policy.tf").write_text(
        'resource "aws_sqs_queue_policy" "orders" {\n  queue_url = aws_sqs_queue.orders.id\n'
        '  policy = <<POLICY\n{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*",'
        ' "Resource": "*", "Principal": "*"}]}\nPOLICY  \n}\n'
    )
    report = review([root], cfn_lint=False, cwd=root)
    assert report.notices == []
    assert rules(report) == [("IAM001", 4)]  # the heredoc line holding "sqs:*"


def test_cdk_app_without_cdk_json_is_still_read(tmp_path: Path, kit: Any) -> None:
    root = kit.materialise(kit.load_case("RM003-cdk-table-retained"), tmp_path)
    (root / "cdk.json").unlink()
    report = review([root], cfn_lint=False, cwd=root)
    assert [p.frameworks for p in report.patterns] == [["cdk-typescript"]]
    assert rules(report) == [("RM003", 14)]


def test_mask_keeps_length_and_blanks_literals() -> None:
    src = "const a = 'x}{'; // } {\nconst b = `t ${ {c: 1}.c } }`; /* { */ const r = /[}]/g;\n"
    code = mask(src)
    assert len(code) == len(src) and code.count("\n") == src.count("\n")
    assert "}{" not in code and "/*" not in code
    js = JsFile(src)
    opens = [i for i, ch in enumerate(js.code) if ch == "{"]
    assert all(js.close(i) is not None for i in opens)
