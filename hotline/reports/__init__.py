"""Report figures for the bureau, computed from the database for a range of local days."""
from hotline.reports.casework import CaseworkFigures, PerMonth, casework_figures
from hotline.reports.child import OUTCOMES, ChildFigures, child_figures
from hotline.reports.elderly import ElderlyFigures, elderly_figures
from hotline.reports.period import MAX_MONTHS, DurationStats, Period, default_period, parse_period, percentile

__all__ = [
    "CaseworkFigures", "PerMonth", "casework_figures",
    "OUTCOMES", "ChildFigures", "child_figures",
    "ElderlyFigures", "elderly_figures",
    "MAX_MONTHS", "DurationStats", "Period", "default_period", "parse_period", "percentile",
]
