"""settings_notice: one message per settings change, grouped, counted, first names shown."""

from __future__ import annotations

from beastmode.lsp.settings_notice import UnregisteredModel, settings_log, settings_notice
from beastmode.settings import parse_settings


def test_nothing_new_says_nothing() -> None:
    assert settings_notice([], []) is None


def test_a_few_problems_are_shown_in_full() -> None:
    _, problems = parse_settings({"endpointUrl": "http://evil", "colour": 1})
    model = UnregisteredModel("model", "custom:ghost")
    assert settings_notice(problems, [model]) == " ".join(
        [problems[0], problems[1] + ".", model.sentence()]
    )


def test_many_problems_are_grouped_by_kind_with_counts_and_first_names() -> None:
    raw = {"apiKey": "k", "baseUrl": "u", "colour": 1, "timeouts": {"completionMs": -1}}
    _, problems = parse_settings(raw)
    models = [UnregisteredModel("fallback", f"custom:m{n}") for n in range(5)]
    message = settings_notice(problems, models)
    assert message == (
        "BEAST MODE ignored part of your settings: 2 settings refused (endpoints, URLs and keys "
        "come only from `beastmode models add`) (apiKey, baseUrl); 1 setting ignored as unknown "
        "(colour); 1 setting with invalid values (defaults used) (timeouts.completionMs); "
        "5 unregistered models skipped (custom:m0, custom:m1, custom:m2 and 2 more): register "
        "them with `beastmode models add`."
    )


def test_the_log_lists_every_problem_up_to_a_cap() -> None:
    problems = [
        f"Setting beastmode.k{n} is not a BEAST MODE setting; it is ignored" for n in range(80)
    ]
    log = settings_log(problems, []).splitlines()
    assert len(log) == 51 and log[-1] == "... and 30 more"
