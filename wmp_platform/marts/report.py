"""Charts and the KPI report, drawn from the published crime and incident marts (never from the
scratch schema or the staged feeds, so they show what readers of the marts see)."""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import duckdb

from wmp_platform.marts.charts import Bin, Histogram, histogram_panels, line_panels
from wmp_platform.marts.publishing import PUBLISHED_LOG, PUBLISHED_SCHEMA
from wmp_platform.storage import temporary_sibling

WEEKLY_AFTER_DAYS = 56  # longer spans are drawn week by week: daily lines would be noise
AVAILABILITY_DAYS = 14  # hourly lines over longer spans are unreadable
REPORT_NAME = "kpi_report.html"


def _published(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? AND database_name = current_database()",
        [PUBLISHED_SCHEMA, table]).fetchone()[0])


def crime_trend_chart(con: duckdb.DuckDBPyConnection) -> str | None:
    """Recorded crimes per day (or week, over long spans) by category, one panel per area."""
    if not _published(con, "crime_by_area_day"):
        return None
    first, last = con.execute(f"SELECT min(occurred_on), max(occurred_on) FROM {PUBLISHED_SCHEMA}.crime_by_area_day").fetchone()
    if first is None:
        return None
    unit = "week" if (last - first).days > WEEKLY_AFTER_DAYS else "day"
    rows = con.execute(f"""
        SELECT lpa, crime_category, CAST(date_trunc('{unit}', occurred_on) AS DATE) AS period, sum(crimes)
        FROM {PUBLISHED_SCHEMA}.crime_by_area_day GROUP BY ALL ORDER BY ALL""").fetchall()
    panels: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for lpa, category, period, crimes in rows:
        panels[lpa][category].append((period, float(crimes)))
    return line_panels(f"Recorded crimes per {unit} by crime type and area, {first:%d %b %Y} to {last:%d %b %Y}",
                       dict(panels), f"crimes per {unit}")


def response_time_chart(con: duckdb.DuckDBPyConnection) -> str | None:
    """Minutes from call to arrival per grade with a target, force-wide over the whole period."""
    if not _published(con, "response_time_distribution"):
        return None
    rows = con.execute(f"""
        SELECT grade_code, grade_label, target_minutes, bucket, from_minutes, to_minutes, sum(incidents),
               min(month_start) OVER (), max(month_start) OVER ()
        FROM {PUBLISHED_SCHEMA}.response_time_distribution WHERE lpa = 'All areas'
        GROUP BY grade_code, grade_label, target_minutes, bucket, from_minutes, to_minutes, month_start
        ORDER BY grade_code, bucket""").fetchall()
    if not rows:
        return None
    by_grade: dict[tuple, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for code, label, target, bucket, _, _, count, _, _ in rows:
        by_grade[(code, label, target)][bucket] += count
    histograms = []
    for (code, label, target), counts in sorted(by_grade.items()):
        width = target / 15
        bins = [Bin(b * width, (b + 1) * width if b < 30 else None, counts.get(b, 0)) for b in range(31)]
        histograms.append(Histogram(f"Grade {code} ({label})", bins, target, "min"))
    first, last = rows[0][7], rows[0][8]
    months = f"{first:%b %Y}" if first == last else f"{first:%b %Y} to {last:%b %Y}"
    return histogram_panels(f"Minutes from call to arrival against the attendance target, all areas, {months}",
                            histograms)


def availability_chart(con: duckdb.DuckDBPyConnection) -> str | None:
    """Officers on duty, committed and free at each hour, one panel per area."""
    if not _published(con, "officer_availability"):
        return None
    rows = con.execute(f"""
        SELECT lpa, timezone('Europe/London', hour_start) AS local_hour, on_duty, committed, free
        FROM {PUBLISHED_SCHEMA}.officer_availability
        WHERE hour_start > (SELECT max(hour_start) FROM {PUBLISHED_SCHEMA}.officer_availability)
                           - INTERVAL {AVAILABILITY_DAYS} DAY
        ORDER BY lpa, hour_start""").fetchall()
    if not rows:
        return None
    panels: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for lpa, hour, on_duty, committed, free in rows:
        for name, value in (("on duty", on_duty), ("committed", committed), ("free", free)):
            panels[lpa][name].append((hour, float(value)))
    return line_panels(f"Officers on duty, committed to incidents and free, by hour and area "
                       f"(the last {AVAILABILITY_DAYS} days at most)", dict(panels), "officers")


def kpi_charts(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """SVG text of every chart whose mart is published, by file stem."""
    charts = {"crime_trend": crime_trend_chart(con), "response_times": response_time_chart(con),
              "officer_availability": availability_chart(con)}
    return {name: svg for name, svg in charts.items() if svg}


def _table(con: duckdb.DuckDBPyConnection, query: str, formats: dict[str, str] | None = None) -> str:
    result = con.execute(query)
    names = [d[0] for d in result.description]
    formats = formats or {}
    head = "".join(f"<th>{escape(n.replace('_', ' '))}</th>" for n in names)
    body = []
    for row in result.fetchall():
        cells = []
        for name, value in zip(names, row):
            text = "" if value is None else format(value, formats[name]) if name in formats else str(value)
            align = " class='n'" if isinstance(value, (int, float)) else ""
            cells.append(f"<td{align}>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _crime_section(con: duckdb.DuckDBPyConnection) -> str:
    if not _published(con, "crime_by_area_day"):
        return "<h2>Crime</h2><p>The crime mart has not been published yet.</p>"
    by_area = _table(con, f"""
        PIVOT (SELECT lpa AS area, crime_category, crimes FROM {PUBLISHED_SCHEMA}.crime_by_area_day)
        ON crime_category USING sum(crimes) GROUP BY area ORDER BY area""")
    hotspots = _table(con, f"""
        SELECT lpa AS area, rank, lsoa_name AS lsoa, crimes, share_of_area_crimes, main_crime_category
        FROM {PUBLISHED_SCHEMA}.crime_hotspots WHERE rank <= 3 ORDER BY lpa, rank""", {"share_of_area_crimes": ".1%"})
    outcomes = _table(con, f"""
        SELECT outcome, sum(crimes) AS crimes, sum(crimes) / (SELECT sum(crimes) FROM {PUBLISHED_SCHEMA}.crime_outcomes)
               AS share FROM {PUBLISHED_SCHEMA}.crime_outcomes GROUP BY outcome ORDER BY crimes DESC""",
                      {"share": ".1%"})
    return (f"<h2>Crime</h2><h3>Recorded crimes by area and type</h3>{by_area}"
            f"<h3>Hotspots: the top three LSOAs of each area, last 28 days</h3>{hotspots}"
            f"<h3>Latest outcomes</h3>{outcomes}")


def _incident_section(con: duckdb.DuckDBPyConnection) -> str:
    if not _published(con, "incident_response"):
        return "<h2>Incidents</h2><p>The incident mart has not been published yet.</p>"
    response = _table(con, f"""
        SELECT period_start AS month, grade_code AS grade, grade_label, incidents, attended, target_minutes,
               share_within_target, median_attendance_minutes, p90_attendance_minutes
        FROM {PUBLISHED_SCHEMA}.incident_response
        WHERE period_unit = 'month' AND lpa = 'All areas' AND shift = 'All shifts' ORDER BY month, grade""",
                      {"share_within_target": ".1%", "median_attendance_minutes": ".1f",
                       "p90_attendance_minutes": ".1f", "target_minutes": "g"})
    by_area = _table(con, f"""
        PIVOT (SELECT lpa AS area, shift, share_within_target FROM {PUBLISHED_SCHEMA}.incident_response
               WHERE period_unit = 'month' AND grade_code = 1 AND lpa <> 'All areas')
        ON shift USING first(share_within_target) GROUP BY area ORDER BY area""",
                     {s: ".1%" for s in ("All shifts", "Early", "Late", "Night")})
    answering = _table(con, f"""
        SELECT period_start AS month, channel, calls, target_seconds, share_within_target, median_answer_seconds,
               p90_answer_seconds
        FROM {PUBLISHED_SCHEMA}.call_answering WHERE period_unit = 'month' AND lpa = 'All areas'
        ORDER BY month, channel""", {"share_within_target": ".1%", "target_seconds": "g"})
    return (f"<h2>Incidents</h2><h3>Attendance against target, all areas</h3>{response}"
            f"<h3>Emergencies (grade 1) attended within 15 minutes, by area and shift</h3>{by_area}"
            f"<h3>Call answering</h3>{answering}")


_STYLE = """
body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1000px}
table{border-collapse:collapse;margin:8px 0 20px;font-size:13px}
th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}
td.n{text-align:right}
th{background:#f2f2f2}
figure{margin:12px 0 28px}
.meta{color:#666;font-size:12px}
"""


def write_kpi_report(con: duckdb.DuckDBPyConnection, folder: Path) -> Path:
    """Write folder/kpi_report.html (headline tables and charts inline) and each chart as SVG; the report's path.

    Files are replaced atomically, so a reader never sees half a report.
    """
    folder.mkdir(parents=True, exist_ok=True)
    charts = kpi_charts(con)
    for name, svg in charts.items():
        _write_atomically(folder / f"{name}.svg", svg)
    published = ""
    if _published(con, PUBLISHED_LOG):
        rows = con.execute(f"""SELECT mart, max(published_at) FROM {PUBLISHED_SCHEMA}.{PUBLISHED_LOG}
                               WHERE NOT restricted GROUP BY mart ORDER BY mart""").fetchall()
        published = "; ".join(f"{mart} published {when:%Y-%m-%d %H:%M} UTC" for mart, when in rows)
    figures = "".join(f"<figure>{svg}</figure>" for svg in charts.values())
    html = (f"<!doctype html><html><head><meta charset='utf-8'><title>KPI report</title><style>{_STYLE}</style>"
            f"</head><body><h1>Crime and incident KPIs</h1>"
            f"<p class='meta'>Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC from the published marts"
            f"{': ' + escape(published) if published else ''}. Aggregates only.</p>"
            f"{figures}{_crime_section(con)}{_incident_section(con)}</body></html>")
    path = folder / REPORT_NAME
    _write_atomically(path, html)
    return path


def _write_atomically(path: Path, text: str) -> None:
    temporary = temporary_sibling(path)
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
