"""Re-cut the ingest test fixtures from the real reference files (run from the project root):

    .venv/bin/python tests/data/ingest/cut_fixtures.py ../shared/reference

Rows are copied byte for byte (CRLF endings kept) so every quirk of the real files survives. The few derived
files are built from real rows as README.md in this folder says.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def cut(source: Path, target: str, keep) -> None:
    """Header plus the rows (as raw lines) whose parsed fields satisfy ``keep``."""
    raw = lines(source)
    header = next(csv.reader([raw[0].decode("utf-8")]))
    chosen = [raw[0]] + [line for line in raw[1:]
                         if keep(dict(zip(header, next(csv.reader([line.decode("utf-8")])))))]
    (HERE / target).write_bytes(b"".join(chosen))


def write_rows(target: str, header: list[str], rows: list[list[str]], crlf: bool = True) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n" if crlf else "\n").writerows([header, *rows])
    (HERE / target).write_bytes(buffer.getvalue().encode("utf-8"))


def main(ref: Path) -> None:
    smoking_gps = {"E84002", "E84003", "E84006", "E85124", "E87003", "E84617"}
    cut(ref / "fingertips_91547_smoking_prev_qof_gp_nwl.csv", "fingertips_91547_smoking_cut.csv",
        lambda r: r["Area Code"] in smoking_gps or (r["Area Code"] == "E92000001" and r["Time period"] == "2013/14")
        or (r["Area Type"] == "ICBs" and r["Time period"] == "2021/22")
        or (r["Category Type"] != "" and r["Time period"] == "2021/22" and "4/21" in r["Category Type"]
            and r["Category"].startswith("Most")))
    smoking = (HERE / "fingertips_91547_smoking_cut.csv").read_bytes()
    (HERE / "fingertips_91547_smoking_bom.csv").write_bytes(b"\xef\xbb\xbf" + smoking)
    cut(ref / "fingertips_93930_ae_attendances_0to4_gp_pcn_nwl.csv", "fingertips_93930_ae_cut.csv",
        lambda r: r["Area Code"] in {"U02961", "U05784", "E84002", "E84017"}
        or (r["Area Code"] == "E92000001" and r["Category Type"] == "" and r["Time period"] == "2021/22"))
    cut(ref / "fingertips_93553_imd2019_gp_nwl.csv", "fingertips_93553_imd_cut.csv",
        lambda r: r["Area Code"] in {"E92000001", "E84002", "E85124"})
    cut(ref / "nhsd_gp_reg_pat_prac_all_2021-01_nwl.csv", "gp_list_size_2021-01_cut.csv",
        lambda r: r["CODE"] in {"E84002", "E84003", "E84696", "E85124", "E87003", "Y00230"})
    layout = (ref / "nhsd_gp_reg_pat_prac_all_2026-04_layout.csv").read_bytes()
    (HERE / "gp_list_size_2026-04_layout.csv").write_bytes(layout)
    # Derived: the April 2026 layout (new SUB_ICB_LOCATION_ names, ISO date) holding the January 2021 NWL rows.
    old = list(csv.DictReader(io.StringIO((HERE / "gp_list_size_2021-01_cut.csv").read_text(encoding="utf-8"))))
    new_header = next(csv.reader([lines(ref / "nhsd_gp_reg_pat_prac_all_2026-04_layout.csv")[0].decode()]))
    write_rows("gp_list_size_2026-04_nwl_derived.csv", new_header, [
        [r["PUBLICATION"], "2026-04-01", r["TYPE"], "W2U3Z", "E38000256", r["CODE"], r["POSTCODE"], r["SEX"],
         r["AGE"], r["NUMBER_OF_PATIENTS"]] for r in old if r["CODE"] not in {"E84696", "Y00230"}], crlf=False)
    cut(ref / "nhsd_gp_reg_pat_prac_quin_age_2017-10_layout.csv", "gp_quin_age_2017-10_cut.csv",
        lambda r: r["ORG_CODE"] == "B85010")
    for name in ("nhsd_gp_reg_pat_prac_map_2022-01_nwl.csv", "nhsd_qof_2324_practice_mapping_nwl.csv",
                 "nhs_talking_therapies_measures_monthly_layout.csv", "fingertips_91547_smoking_prev_qof_gp_nwl.csv",
                 "fingertips_93930_ae_attendances_0to4_gp_pcn_nwl.csv", "fingertips_93553_imd2019_gp_nwl.csv"):
        (HERE / name).write_bytes((ref / name).read_bytes())
    # Derived: the QOF April 2024 memberships in the newer gp-reg-pat-prac-map layout (SUB_ICB_LOCATION_ / ICB_).
    qof_text = (ref / "nhsd_qof_2324_practice_mapping_nwl.csv").read_text(encoding="utf-8")
    qof = list(csv.DictReader(io.StringIO(qof_text)))
    map22 = {r["PRACTICE_CODE"]: r for r in csv.DictReader(io.StringIO(
        (ref / "nhsd_gp_reg_pat_prac_map_2022-01_nwl.csv").read_text(encoding="utf-8")))}
    header = ["PUBLICATION", "EXTRACT_DATE", "PRACTICE_CODE", "PRACTICE_NAME", "PRACTICE_POSTCODE", "PCN_CODE",
              "PCN_NAME", "ONS_SUB_ICB_LOCATION_CODE", "SUB_ICB_LOCATION_CODE", "SUB_ICB_LOCATION_NAME",
              "ONS_ICB_CODE", "ICB_CODE", "ICB_NAME", "ONS_COMM_REGION_CODE", "COMM_REGION_CODE", "COMM_REGION_NAME"]
    write_rows("practice_map_2026-04_new_names_derived.csv", header, [
        ["GP_PRAC_PAT_LIST", "2026-04-01", r["PRACTICE_CODE"], r["PRACTICE_NAME"],
         map22[r["PRACTICE_CODE"]]["PRACTICE_POSTCODE"], r["PCN_ODS_CODE"], r["PCN_NAME"], r["CCG_ONS_CODE"],
         r["CCG_ODS_CODE"], r["CCG_NAME"], r["STP_ONS_CODE"], r["STP_ODS_CODE"], r["STP_NAME"], r["REGION_ONS_CODE"],
         r["REGION_ODS_CODE"], r["REGION_NAME"]] for r in qof])
    # Derived: the real monthly measures layout for legacy Harrow CCG (08E); counts are illustrative, see README.
    tt_header = next(csv.reader([lines(ref / "nhs_talking_therapies_measures_monthly_layout.csv")[0].decode()]))
    rows = []
    for start, end, finished, not_caseness, recovered in (("01/05/2020", "31/05/2020", "120", "10", "58"),
                                                          ("01/06/2020", "30/06/2020", "131", "12", "-")):
        for measure, value in (("Count_FinishedCourseTreatment", finished), ("Count_NotAtCaseness", not_caseness),
                               ("Count_Recovery", recovered),
                               ("Percentage_Recovery", "-" if recovered == "-" else
                                f"{100 * int(recovered) / (int(finished) - int(not_caseness)):.1f}")):
            rows.append([start, end, "CCG", "08E", "NHS HARROW CCG", "all", "all Providers", "", measure, value])
    rows.append(["01/05/2020", "31/05/2020", "England", "all", "all SubICBs", "all", "all Providers", "",
                 "Count_Recovery", "51234"])
    write_rows("talking_therapies_harrow_ccg_derived.csv", tt_header, rows, crlf=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
