"""Unit explanations and plan summaries on a hand-checked toy plan.

Toy (``units_ok_small``) with similarity on function and region only, so every
squared distance is 0 (same function and region), or 2 (A–C school/North vs
D–F hospital/South)::

    cluster 0 "X": A B C      cluster 1 "Y": D E F
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers import make_plan, make_problem, units_ok_small

from features.errors import ClusterAssignError
from features.i18n import language
from optimizer.explain import (
    binding_rules,
    criterion_shares,
    explain_unit,
    summarize_plan,
)
from optimizer.objective import COST_SCALE, dispersion_of
from optimizer.plan import SolveStatus

WEIGHTS = {"function": 1.0, "region": 1.0}


def _problem(**rules):
    return make_problem(units_ok_small(), weights=WEIGHTS, **rules)


def _plan(labels="000111", **kw):
    return make_plan(
        [int(c) for c in labels],
        unit_ids=list("ABCDEF"),
        cluster_labels=["X", "Y"],
        **kw,
    )


def test_unit_tied_by_function_and_region():
    """A's nearest members are B and C at distance 0 on both criteria (ratio 0)."""
    e = explain_unit(_plan(), _problem(), "A")
    assert (e.cluster, e.label, e.cluster_size) == (0, "X", 3)
    assert {t.criterion for t in e.ties} == {"function", "region"}
    for tie in e.ties:
        assert [u for u, _ in tie.nearest] == ["B", "C"]
        assert all(d == 0 for _, d in tie.nearest)
        assert tie.ratio == 0
    assert e.same_region == ("B", "C") and e.same_function == ("B", "C")


def test_move_cost_is_hand_computed_delta():
    """Moving A into D,E,F costs 2 (function 1 + region 1 to the medoid); nothing breaks."""
    e = explain_unit(_plan(), _problem(), "A")
    (move,) = e.moves
    assert (move.cluster, move.label) == (1, "Y")
    assert move.delta == pytest.approx(2.0)
    assert move.broken == ()


def test_move_delta_matches_full_recomputation():
    """The incremental delta equals the dispersion difference of whole plans."""
    problem = make_problem(units_ok_small(), n_clusters=3)
    plan = make_plan([0, 0, 1, 1, 2, 2], unit_ids=list("ABCDEF"))
    e = explain_unit(plan, problem, "C", n_moves=5)
    before = dispersion_of(plan.assignment.labels, problem.features)
    for move in e.moves:
        after = dispersion_of(
            {**plan.assignment.labels, "C": move.cluster}, problem.features
        )
        assert move.delta == pytest.approx((after - before) / COST_SCALE)


def test_move_reports_broken_rules():
    """With sizes fixed at 3, moving A breaks both min_size and max_size."""
    e = explain_unit(_plan(), _problem(min_size=3, max_size=3), "A")
    assert set(e.moves[0].broken) == {"min_size", "max_size"}
    assert e.moves[0].messages


def test_stability_weight_enters_delta():
    """A (current X) moving to Y adds one move at stability weight 0.5."""
    e = explain_unit(_plan(), _problem(stability_weight=0.5), "A")
    assert e.moves[0].delta == pytest.approx(2.5)


def test_unknown_unit_is_a_user_error():
    """Asking about a unit not in the plan is a clear user error, not a KeyError."""
    with pytest.raises(ClusterAssignError, match="'Z'"):
        explain_unit(_plan(), _problem(), "Z")


def test_binding_rules():
    """Sizes at their bounds, zero-tolerance balance and used-up max_moves are binding."""
    problem = _problem(min_size=3, max_size=3, balance={"population": 0.0}, max_moves=2)
    lines = binding_rules(_plan(), problem)
    assert len(lines) == 4
    assert any("max_moves = 2" in line for line in lines)
    loose = _problem(min_size=1, max_size=5, balance={"population": 0.1}, max_moves=3)
    assert binding_rules(_plan(), loose) == []


def test_binding_lines_name_a_few_clusters_and_count_the_rest(monkeypatch):
    """Past BINDING_NAMES_SHOWN clusters a line names the first ones and counts the others
    (at 50 000 units one line named thousands); up to it, every cluster is named."""
    import optimizer.explain_plan as explain_plan

    problem = _problem(min_size=3)
    with language("vi"):
        assert binding_rules(_plan(), problem) == ["min_size = 3: cụm 'X', 'Y' ở đúng cận dưới"]
    monkeypatch.setattr(explain_plan, "BINDING_NAMES_SHOWN", 1)
    with language("vi"):
        assert binding_rules(_plan(), problem) == [
            "min_size = 3: cụm 'X' và 1 cụm khác ở đúng cận dưới"]
    with language("en"):
        assert binding_rules(_plan(), problem) == [
            "min_size = 3: cluster(s) 'X' and 1 more at the lower bound"]


def test_criterion_shares_split_dispersion():
    """Mixing D into A,B splits the dispersion evenly between function and region."""
    plan = _plan("001011")
    shares = criterion_shares(plan, _problem())
    assert shares == pytest.approx({"function": 0.5, "region": 0.5})


def test_summary_quality_in_both_languages():
    """A FEASIBLE plan states its gap; English wording follows the language."""
    plan = replace(_plan(status=SolveStatus.FEASIBLE, objective=4.0), bound=3.0)
    s = summarize_plan(plan, _problem())
    assert "25" in s.quality and "cận dưới" in s.quality
    with language("en"):
        assert "at most 25 % from optimal" in summarize_plan(plan, _problem()).quality


# --- cumkhoi explain on folders written by cumkhoi plan -----------------------


def _cli():
    """The cumkhoi group with ``explain`` registered (engineer C registers it in cli.py)."""
    from scenarios.cli import main
    from scenarios.cli_explain import explain

    if "explain" not in main.commands:
        main.add_command(explain)
    return main


def _planned(tmp_path, extra: str = "", expect: int = 0):
    """Run ``cumkhoi plan`` on the six-unit case of test_definition; return its folder."""
    from click.testing import CliRunner
    from test_definition import SCENARIO_TOML, write_case

    scenario = write_case(tmp_path / "case", SCENARIO_TOML + extra)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        _cli(), ["plan", str(scenario), "-o", str(out), "--quiet"]
    )
    assert result.exit_code == expect, result.output
    return out


def _explain(*args: str):
    from click.testing import CliRunner

    return CliRunner().invoke(_cli(), list(args))


def test_cli_explain_summary_vi(tmp_path):
    """Summary names quality, binding sizes (3 = min = max) and both clusters."""
    out = _planned(tmp_path)
    result = _explain("explain", str(out))
    assert result.exit_code == 0, result.output
    assert "Phương án 'Sáu đơn vị'" in result.output
    assert "Tối ưu đã được chứng minh" in result.output
    assert "min_size = 3" in result.output and "max_size = 3" in result.output
    assert "3 đơn vị Bắc" in result.output and "3 đơn vị Nam" in result.output


def test_cli_explain_unit_en_and_json(tmp_path):
    """--unit explains in English; moving any unit breaks the size bounds."""
    import json

    out = _planned(tmp_path)
    result = _explain("--lang", "en", "explain", str(out), "--unit", "01")
    assert result.exit_code == 0, result.output
    assert "Một (01) is in cluster" in result.output
    assert "minimum cluster size" in result.output  # planner words, not the key
    data = json.loads(_explain("explain", str(out), "--unit", "01", "--json").output)
    assert data["unit"] == "01" and data["cluster_size"] == 3
    assert all({"min_size", "max_size"} <= set(m["broken"]) for m in data["moves"])


def test_cli_explain_unknown_unit_exits_1(tmp_path):
    """A unit id not in the plan is a user error with exit code 1."""
    out = _planned(tmp_path)
    result = _explain("explain", str(out), "--unit", "99")
    assert result.exit_code == 1
    assert "'99'" in result.output


def test_cli_explain_infeasible_folder(tmp_path):
    """An infeasible plan folder is explained: the conflict and only verified relaxations."""
    out = _planned(
        tmp_path, '[rules]\ntogether = [["01", "02", "03", "04"]]\n', expect=3
    )
    result = _explain("explain", str(out))
    assert result.exit_code == 0, result.output
    assert "Một (01), Hai (02), Ba (03), Bốn (04)" in result.output
    assert "max_size = 3" in result.output
    # max_size 4 alone would still clash with min_size 3 (4 + 2 units): not proposed.
    assert "bỏ quy tắc: nhóm 'cùng cụm'" in result.output
    assert "đổi max_size" not in result.output


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_cli_explain_on_bundled_plan_vi_and_en(tmp_path):
    """`cumkhoi explain` works on `cumkhoi plan` output for the bundled 34 provinces."""
    from click.testing import CliRunner

    out = tmp_path / "vn34"
    runner = CliRunner()
    planned = runner.invoke(
        _cli(), ["plan", "-o", str(out), "--quiet", "--time-limit", "3"]
    )
    assert planned.exit_code == 0, planned.output
    vi = _explain("explain", str(out))
    assert vi.exit_code == 0 and "Chênh lệch trong cụm" in vi.output
    assert "triệu" in vi.output
    en = _explain("--lang", "en", "explain", str(out), "--unit", "01")
    assert en.exit_code == 0, en.output
    assert "Hà Nội (01) is in cluster" in en.output
    assert "What moving it would cost" in en.output


def test_restricted_bound_is_said_to_be_no_guarantee():
    """A bound from the candidate-restricted model is flagged in the quality text."""
    plan = replace(_plan(status=SolveStatus.FEASIBLE, objective=4.0), bound=3.0)
    s = summarize_plan(plan, _problem(), bound_scope="restricted")
    assert "không phải là bảo đảm tuyệt đối" in s.quality
    assert "bảo đảm" not in summarize_plan(plan, _problem()).quality


def test_unit_verdicts():
    """Verdicts: best where it is; improvable without rules; kept there by a fixed rule."""
    from optimizer.explain import unit_verdict

    assert "Mọi cụm khác đều kém hơn" in unit_verdict(
        explain_unit(_plan(), _problem(), "A")
    )
    misplaced = _plan("100111")  # A sits with the hospitals of the South
    text = unit_verdict(explain_unit(misplaced, _problem(), "A"))
    assert "'X'" in text and "chưa tối ưu" in text
    with language("en"):
        kept = unit_verdict(explain_unit(misplaced, _problem(fixed={"A": "Y"}), "A"))
    assert "breaks unit fixed to a cluster" in kept and "'X'" in kept
