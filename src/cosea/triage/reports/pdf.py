"""The PDF report, from the same collected content as the HTML one (fpdf2).

DejaVu Sans (shipped with matplotlib) gives full Unicode for paths in any script.
Plots are embedded as PNG. A PDF cannot reveal on click, so with thumbnails it holds
only the strongly blurred greyscale versions.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from cosea.triage.reports import plots
from cosea.triage.reports.html import filesize

_MAX_PDF_ROWS = 500


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


class _Report:
    def __init__(self, title: str) -> None:
        from fpdf import FPDF

        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_auto_page_break(auto=True, margin=14)
        fonts = _font_dir()
        pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
        pdf.add_font("DejaVuMono", "", str(fonts / "DejaVuSansMono.ttf"))
        pdf.set_title(title)
        pdf.set_creator("cosea")
        pdf.add_page()
        self.pdf = pdf

    def heading(self, text: str) -> None:
        pdf = self.pdf
        if pdf.get_y() > 250:
            pdf.add_page()
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 13)
        pdf.set_text_color(47, 93, 124)
        pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(29, 42, 51)
        pdf.set_font("DejaVu", "", 9)

    def text(self, text: str, size: float = 9) -> None:
        self.pdf.set_font("DejaVu", "", size)
        self.pdf.multi_cell(0, 4.6, text, new_x="LMARGIN", new_y="NEXT")

    def table(
        self, header: list[str], rows: list[list[Any]], widths: list[int] | None = None
    ) -> None:
        pdf = self.pdf
        if not rows:
            self.text("(none)")
            return
        pdf.set_font("DejaVu", "", 7.5)
        shown = rows[:_MAX_PDF_ROWS]
        with pdf.table(
            col_widths=widths,
            line_height=3.8,
            text_align="LEFT",
            headings_style=_headings_style(),
            first_row_as_headings=True,
        ) as table:
            table.row([str(h) for h in header])
            for row in shown:
                table.row(["" if v is None else str(v) for v in row])
        if len(rows) > len(shown):
            self.text(f"… {len(rows) - len(shown)} more rows in the HTML and JSON reports.")
        pdf.set_font("DejaVu", "", 9)

    def image(self, png: bytes | None, width: float = 180) -> None:
        if png is None:
            return
        pdf = self.pdf
        if pdf.get_y() > 200:
            pdf.add_page()
        pdf.image(io.BytesIO(png), w=width)
        pdf.ln(2)


def _headings_style() -> Any:
    from fpdf.fonts import FontFace

    return FontFace(family="DejaVu", emphasis="BOLD", fill_color=(238, 242, 244))


def _playbooks(report: _Report, section: dict[str, Any]) -> None:
    """The stakeholder playbooks, law enforcement first; the same content as the HTML."""
    basis = section["basis"]
    report.heading("What to do: stakeholder playbooks")
    seen = ", ".join(basis["techniques"]) or "no conversation technique"
    matched = (
        f"{basis['matched_files']} file(s) matched a hash list"
        if basis["media_matched"]
        else "no file matched a hash list"
    )
    report.text(f"Drawn from the COSEA matrix for: {seen}; {matched}.")
    for text in (section["problem"], section["message"]):
        if text:
            report.text(text)
    for playbook in section["audiences"]:
        report.pdf.set_font("DejaVu", "B", 10)
        report.pdf.multi_cell(0, 6, playbook["title"], new_x="LMARGIN", new_y="NEXT")
        report.text(playbook["intro"])
        for text in playbook["urgent"]:
            report.text(f"Urgent: {text}")
        for number, text in enumerate(playbook["steps"], start=1):
            report.text(f"{number}. {text}")
        if playbook["actions"]:
            report.table(
                ["Action", "What to do", "Against"],
                [
                    [
                        f"{a['name']} ({a['mitigation']}, {a['kind']})",
                        a["text"],
                        ", ".join(a["techniques"]),
                    ]
                    for a in playbook["actions"]
                ],
                [45, 110, 25],
            )
        report.table(
            ["Where to report", "Country", "Web address"],
            [[b["name"], b["country"], b["url"]] for b in playbook["report_to"]],
            [70, 20, 90],
        )
        for note in playbook["notes"]:
            report.text(note, size=8)


def render_pdf(data: dict[str, Any], thumbnails: list[Any], out: Path) -> None:
    case = data["case"]
    report = _Report(f"Triage report — case {case['name']}")
    pdf = report.pdf
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 10, f"Triage report — case {case['name']}", new_x="LMARGIN", new_y="NEXT")
    report.text(
        f"Generated {data['report']['generated_at']} by cosea {data['report']['version']}"
        + (f"; examiner(s): {', '.join(case['examiners'])}" if case["examiners"] else "")
    )
    report.text(
        "No picture is shown in this report"
        + (" except strongly blurred greyscale thumbnails." if thumbnails else ".")
        + " Flags are leads for a person to weigh, not findings. Every export is recorded in "
        "the case's chain of custody."
    )
    totals = data["totals"]
    report.heading("Case summary")
    report.table(
        ["Measure", "Value"],
        [
            ["files (archive members included)", f"{totals['files']:,}"],
            ["total size", filesize(totals["bytes"])],
            ["inside archives", f"{totals['in_archives']:,}"],
            ["for review (not known)", f"{totals['for_review']:,}"],
            ["known files set aside", f"{totals['known']:,}"],
            ["files matching a list", f"{totals['matched_files']:,}"],
            ["near-duplicate clusters", f"{totals['clusters']:,}"],
            [
                "chat alerts / conversations",
                f"{totals['chat_alerts']} / {totals['chat_conversations']}",
            ],
            ["extension mismatches", f"{totals['ext_mismatch']:,}"],
            ["errors recorded", f"{totals['errors']:,}"],
        ],
        [70, 110],
    )
    report.heading("Sources")
    report.table(
        ["Source", "Kind", "SHA-256 (folder: manifest)", "Files"],
        [[s["path"], s["kind"], s["sha256"], s["manifest_files"]] for s in data["sources"]],
        [60, 14, 90, 16],
    )
    report.heading("Files by type")
    report.table(["Group", "Files"], [[k, v] for k, v in data["by_group"].items()], [90, 90])
    report.heading("Matches by list and category")
    report.table(
        ["List", "Category", "Files", "Matches"],
        [[c["list"], c["category"], c["files"], c["matches"]] for c in data["by_category"]],
        [60, 60, 30, 30],
    )
    if data["matches"]:
        report.heading("Matched files")
        report.table(
            ["File", "Path", "List", "Category", "Signal", "Dist."],
            [
                [m["file_id"], m["path"], m["list_name"], m["category"], m["signal"], m["distance"]]
                for m in data["matches"]
            ],
            [12, 88, 25, 25, 15, 15],
        )
    report.heading("Near-duplicate clusters")
    report.table(
        ["Cluster", "Files", "Max dist.", "Matched", "Representative"],
        [
            [
                c["id"],
                c["size"],
                c["max_distance"],
                c["matched_members"],
                c["members"][0]["path"] if c["members"] else "",
            ]
            for c in data["clusters"]
        ],
        [16, 14, 16, 16, 118],
    )
    report.heading("Timeline")
    report.image(plots.timeline(data["timeline"], data["timeline_taken"], "png"))
    report.heading("Cameras")
    report.table(
        ["Make", "Model", "Files"],
        [[c["make"], c["model"], c["files"]] for c in data["cameras"]],
        [70, 80, 30],
    )
    report.heading("GPS positions")
    report.image(plots.gps_points(data["gps"], "png"), width=140)
    report.table(
        ["#", "File", "Path", "Latitude", "Longitude", "Taken"],
        [
            [n, p["file_id"], p["path"], f"{p['lat']:.6f}", f"{p['lon']:.6f}", p["taken_at"]]
            for n, p in enumerate(data["gps"], start=1)
        ],
        [8, 12, 78, 22, 22, 38],
    )
    report.heading("Chat alerts")
    report.table(
        ["File / conversation", "Alert", "Risk", "Stage", "Techniques"],
        [
            [
                f"{c['path']} — {c['conversation_id']}",
                f"alert at {c['alert_message']}" if c["alert"] else "—",
                f"{c['risk']:.2f}",
                c["stage"] or "—",
                "; ".join(f"{t['id']} {t['name'] or ''}".strip() for t in c["techniques"]),
            ]
            for c in data["chats"]
        ],
        [62, 24, 12, 30, 52],
    )
    _playbooks(report, data["playbook"])
    report.heading("Errors")
    report.table(
        ["Kind", "Path", "Reason"],
        [[e["kind"], e["path"], e["reason"]] for e in data["errors"]],
        [30, 70, 80],
    )
    if thumbnails:
        report.heading("Pictures for review (strongly blurred, greyscale)")
        x0 = pdf.l_margin
        x, y = x0, pdf.get_y()
        for thumbnail in thumbnails:
            if x + 28 > pdf.w - pdf.r_margin:
                x, y = x0, y + 32
            if y + 30 > pdf.h - pdf.b_margin:
                pdf.add_page()
                x, y = x0, pdf.get_y()
            raw = base64.b64decode(thumbnail.blurred.split(",", 1)[1])
            pdf.image(io.BytesIO(raw), x=x, y=y, w=26)
            pdf.set_xy(x, y + 26)
            pdf.set_font("DejaVu", "", 6)
            pdf.cell(26, 3, f"file {thumbnail.file_id}")
            x += 30
        pdf.set_xy(x0, y + 32)
    report.heading("Chain of custody")
    chain = data["custody"]
    report.text(
        f"Log {'intact' if chain['intact'] else 'BROKEN'}: {len(chain['entries'])} entries; "
        f"head hash {chain['head']}"
    )
    for problem in chain["problems"]:
        report.text(problem)
    report.table(
        ["#", "Time (UTC)", "Event", "By", "Details", "Hash"],
        [
            [e["id"], e["at"], e["event"], e["actor"], e["summary"], e["hash"][:16] + "…"]
            for e in chain["entries"]
        ],
        [8, 30, 22, 16, 76, 28],
    )
    pdf.output(str(out))
