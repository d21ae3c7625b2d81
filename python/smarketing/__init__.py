"""smarketing: the agreement between marketing and sales, made executable.

Load a Playbook, score historical leads at native speed, measure the scores
against outcomes, tune rule points and thresholds, and write the tuned
Playbook back out for review. Everything is computed by the same C++ core as
the command line and the service, so a score here is the score everywhere.

>>> import smarketing as sm
>>> pb = sm.Playbook.load("examples/playbooks/demo.yaml").validate()
>>> data = sm.sample_leads(10_000, seed=7, now="2026-11-23T09:00:00Z")
>>> scores = sm.score_frame(pb, data.leads, data.events, now="2026-11-23T09:00:00Z")
>>> sm.evaluate(scores, data.outcomes).roc_auc
"""

from ._native import __version__ as __version__
from .backtest import Backtest, backtest
from .checks import DATA_PROBLEM_KINDS, check_data
from .data import LeadData, lead_at, lead_messages, leads_frame, read_leads, sample_leads, sample_outcomes
from .diff import PlaybookDiff, diff
from .errors import ColumnError, DataWarning, InputError, LeadError, PlaybookError, Problem, SmarketingError
from .evaluation import Evaluation, evaluate
from .playbook import Playbook
from .scoring import RuleMatrix, rule_matrix, score, score_frame
from .tuning import TuningError, TuningResult, suggest_thresholds, tune

__all__ = [
    "Backtest",
    "ColumnError",
    "DATA_PROBLEM_KINDS",
    "DataWarning",
    "Evaluation",
    "InputError",
    "LeadData",
    "LeadError",
    "Playbook",
    "PlaybookDiff",
    "PlaybookError",
    "Problem",
    "RuleMatrix",
    "SmarketingError",
    "TuningError",
    "TuningResult",
    "backtest",
    "check_data",
    "diff",
    "evaluate",
    "lead_at",
    "lead_messages",
    "leads_frame",
    "read_leads",
    "rule_matrix",
    "sample_leads",
    "sample_outcomes",
    "score",
    "score_frame",
    "suggest_thresholds",
    "tune",
]
