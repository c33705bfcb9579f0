"""Write the text fixtures of tests/data/bad/corpus (run once; files are committed)."""

import unicodedata
from pathlib import Path


def cp1258(text):
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        d = unicodedata.normalize("NFD", ch)
        base, marks = d[0], list(d[1:])
        for m in list(marks):
            c = unicodedata.normalize("NFC", base + m)
            if len(c) == 1:
                try:
                    c.encode("cp1258")
                    base = c
                    marks.remove(m)
                except UnicodeEncodeError:
                    pass
        out += base.encode("cp1258") + "".join(marks).encode("cp1258")
    return out


C = Path(__file__).parent
for d in ("tables", "adjacency", "scenarios"):
    (C / d).mkdir(parents=True, exist_ok=True)

HEADER = "unit_id,name,function,region,lat,lon,population,area_km2,current_cluster"
ROWS = [
    "01,Hà Nội,thành phố;công nghiệp,Bắc,21.03,105.85,8000,3360,Cụm 1",
    "02,Bắc Ninh,công nghiệp,Bắc,21.18,106.07,2000,2700,Cụm 1",
    "03,Hải Phòng,thành phố,Bắc,20.86,106.68,4000,3190,Cụm 2",
    "04,Phú Thọ,nông nghiệp,Bắc,21.32,105.40,4000,9360,Cụm 1",
    "05,Hưng Yên,nông nghiệp,Bắc,20.65,106.05,3000,2510,Cụm 2",
    "06,Ninh Bình,du lịch,Bắc,20.25,105.97,3000,3940,Cụm 2",
]


def table(rows, header=HEADER, sep=","):
    return "\n".join([header.replace(",", sep) if sep != "," else header, *rows]) + "\n"


def w(name, text, enc="utf-8"):
    (C / name).write_bytes(text.encode(enc) if isinstance(text, str) else text)


def repl(i, old, new):
    rows = list(ROWS)
    rows[i] = rows[i].replace(old, new, 1)
    return rows


w("units_ok.csv", table(ROWS))
w("adjacency_ok.csv", "a,b\n01,02\n02,03\n01,04\n02,05\n03,06\n04,05\n05,06\n")
# two regions, disconnected adjacency (01-02-03 | 04-05-06)
w(
    "units_two_regions.csv",
    table(
        [
            r.replace(",Bắc,", ",Nam,") if r[:2] in ("04", "05", "06") else r
            for r in ROWS
        ]
    ),
)
w("adjacency_split.csv", "a,b\n01,02\n02,03\n04,05\n05,06\n")
w(
    "units_no_current.csv",
    table([r.rsplit(",", 1)[0] for r in ROWS], header=HEADER.rsplit(",", 1)[0]),
)
w("units_lost_zeros.csv", table([r[1:] for r in ROWS]))

T = "tables/"
w(T + "empty.csv", "")
w(T + "blank_lines.csv", "\n  \n\t\n")
w(T + "header_only.csv", HEADER + "\n")
w(T + "bom_space_aligned.csv", "\ufeff" + table(ROWS).replace(",", "   "))
w(
    T + "mixed_encodings.csv",
    table(ROWS[:3]).encode("utf-8") + cp1258("\n".join(ROWS[3:])) + b"\n",
)
w(T + "duplicate_id_exact.csv", table(repl(1, "02,", "01,")))
w(
    T + "duplicate_id_case.csv",
    table([r.replace("01,", "hn,", 1).replace("02,", "HN,", 1) for r in ROWS]),
)
w(T + "duplicate_id_space.csv", table(repl(1, "02,", "01 ,")))
nfd = unicodedata.normalize("NFD", "Hà")
w(
    T + "duplicate_id_unicode.csv",
    table([r.replace("01,", "Hà,", 1).replace("02,", nfd + ",", 1) for r in ROWS]),
)
w(T + "duplicate_id_nbsp.csv", table(repl(1, "02,", "01\u00a0,")))
w(
    T + "decimal_comma_unflagged.csv",
    table([r.replace(",21.03,105.85,", ',"21,03","105,85",') for r in ROWS]),
)
w(T + "negative_population.csv", table(repl(2, ",4000,", ",-4000,")))
w(T + "nan_population.csv", table(repl(2, ",4000,", ",NaN,")))
w(T + "inf_population.csv", table(repl(2, ",4000,", ",inf,")))
w(T + "text_population.csv", table(repl(2, ",4000,", ",khoảng 4 nghìn,")))
w(T + "excel_error_cell.csv", table(repl(2, ",4000,", ",#VALUE!,")))
w(T + "lat_lon_swapped.csv", table(repl(3, "21.32,105.40", "105.40,21.32")))
w(T + "lat_out_of_range.csv", table(repl(3, "21.32,", "95.5,")))
w(T + "lon_out_of_range.csv", table(repl(3, ",105.40,", ",205.40,")))
w(T + "lat_without_lon.csv", table(repl(3, ",105.40,", ",,")))
w(
    T + "missing_id_column.csv",
    table([r.split(",", 1)[1] for r in ROWS], header=HEADER.split(",", 1)[1]),
)
w(
    T + "missing_name_column.csv",
    table(
        [",".join(r.split(",")[:1] + r.split(",")[2:]) for r in ROWS],
        header="unit_id,function,region,lat,lon,population,area_km2,current_cluster",
    ),
)
w(T + "empty_id_cell.csv", table(repl(4, "05,", ",")))
w(T + "empty_name_cell.csv", table(repl(4, "Hưng Yên", "")))
w(
    T + "duplicate_header.csv",
    table(ROWS, header=HEADER.replace("area_km2", "population")),
)
w(T + "unbalanced_quote.csv", table(repl(2, "Hải Phòng", '"Hải Phòng')))
w(T + "long_row.csv", table(repl(2, "Cụm 2", "Cụm 2,extra,cells")))
w(T + "title_rows_above.csv", "BẢNG ĐƠN VỊ NĂM 2026\n\n" + table(ROWS))
w(T + "png_named_csv.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
w(T + "gzip_named_csv.csv", b"\x1f\x8b\x08\x00" + bytes(range(255, -1, -1)) * 4)
w(
    T + "nul_bytes.csv",
    table(ROWS).encode()[:80] + b"\x00\x00\x00" + table(ROWS).encode()[80:],
)
w(T + "legacy.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
w(T + "csv_named_xlsx.xlsx", table(ROWS))
w(
    T + "header_with_formula.csv",
    table(
        ROWS,
        header="=unit_id,name,function,region,lat,lon,population,area_km2,current_cluster",
    ),
)
w(
    T + "mixed_numeric_column.csv",
    table(
        [r.replace(",3360,", ",không rõ,") if r.startswith("01") else r for r in ROWS]
    ),
)
w(
    T + "all_defects.csv",
    table(
        [ROWS[0], ROWS[0], repl(2, ",4000,", ",-1,")[2], repl(3, "21.32,", "99,")[3]]
    ),
)

A = "adjacency/"
w(A + "self_loop.csv", "a,b\n01,02\n03,03\n")
w(A + "unknown_id.csv", "a,b\n01,02\n02,99\n")
w(A + "lost_zeros.csv", "a,b\n1,2\n2,3\n")
w(A + "one_column.csv", "a\n01\n02\n")
w(A + "empty.csv", "")
w(A + "empty_cell.csv", "a,b\n01,02\n03,\n")
w(A + "binary.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2)
w(A + "typo_id.csv", "a,b\n01,02\n02,O3\n")

S = "scenarios/"


def sc(name, body, units="../units_ok.csv", adjacency=None, header=True):
    data = f'[data]\nunits = "{units}"\n' + (
        f'adjacency = "{adjacency}"\n' if adjacency else ""
    )
    if header:
        w(S + name, f'name = "{name[:-5]}"\n' + data + body)
    else:
        w(S + name, body + data)


sc("toml_syntax.toml", "[clusters]\ncount = = 2\n")
sc("typo_top_level.toml", "[clusters]\ncount = 2\n[balanse]\npopulation = 0.2\n")
sc("typo_clusters_key.toml", "[clusters]\ncout = 2\n")
sc("typo_rules_key.toml", "[clusters]\ncount = 2\n[rules]\ncontigous = true\n")
sc("count_as_text.toml", '[clusters]\ncount = "2"\n')
sc("count_float.toml", "[clusters]\ncount = 2.5\n")
sc("count_zero.toml", "[clusters]\ncount = 0\n")
sc("count_negative.toml", "[clusters]\ncount = -3\n")
sc("count_more_than_units.toml", "[clusters]\ncount = 7\n")
sc("count_absurd.toml", "[clusters]\ncount = 1000000000000\n")
sc("count_both_ways.toml", "[clusters]\ncount = 2\nmin_count = 2\nmax_count = 3\n")
sc("min_size_gt_max.toml", "[clusters]\ncount = 2\nmin_size = 4\nmax_size = 3\n")
sc("sizes_too_small.toml", "[clusters]\ncount = 2\nmax_size = 2\n")
sc("sizes_too_large.toml", "[clusters]\ncount = 2\nmin_size = 4\n")
sc("time_limit_zero.toml", "[clusters]\ncount = 2\n[solver]\ntime_limit = 0\n")
sc("time_limit_negative.toml", "[clusters]\ncount = 2\n[solver]\ntime_limit = -5\n")
sc("time_limit_text.toml", '[clusters]\ncount = 2\n[solver]\ntime_limit = "30s"\n')
sc("time_limit_inf.toml", "[clusters]\ncount = 2\n[solver]\ntime_limit = inf\n")
sc("time_limit_nan.toml", "[clusters]\ncount = 2\n[solver]\ntime_limit = nan\n")
sc("workers_zero.toml", "[clusters]\ncount = 2\n[solver]\nworkers = 0\n")
sc("seed_negative.toml", "[clusters]\ncount = 2\n[solver]\nseed = -1\n")
sc("units_missing.toml", "[clusters]\ncount = 2\n", units="khong_co.csv")
sc("units_is_directory.toml", "[clusters]\ncount = 2\n", units="..")
sc(
    "sheet_not_string.toml",
    "[clusters]\ncount = 2\n",
    units='../units_ok.csv"\nsheet = 3\n#',
)
w(S + "units_not_string.toml", 'name = "units_not_string"\n[data]\nunits = 5\n')
sc("adjacency_missing.toml", "[clusters]\ncount = 2\n", adjacency="khong_co.csv")
sc("balance_unknown_column.toml", "[clusters]\ncount = 2\n[balance]\ndan_so = 0.2\n")
sc("balance_text_column.toml", "[clusters]\ncount = 2\n[balance]\nname = 0.2\n")
sc("balance_negative.toml", "[clusters]\ncount = 2\n[balance]\npopulation = -0.1\n")
sc(
    "balance_impossible.toml",
    "[clusters]\ncount = 2\nmin_size = 3\nmax_size = 3\n[balance]\npopulation = 0.0001\n",
)
sc("similarity_negative.toml", "[clusters]\ncount = 2\n[similarity]\nregion = -1\n")
sc("similarity_unknown.toml", "[clusters]\ncount = 2\n[similarity]\nvung = 1.0\n")
sc(
    "together_unknown_id.toml",
    '[clusters]\ncount = 2\n[rules]\ntogether = [["01", "99"]]\n',
)
sc(
    "together_lost_zeros.toml",
    '[clusters]\ncount = 2\n[rules]\ntogether = [["1", "2"]]\n',
)
sc("together_numbers.toml", "[clusters]\ncount = 2\n[rules]\ntogether = [[1, 2]]\n")
sc("together_single.toml", '[clusters]\ncount = 2\n[rules]\ntogether = [["01"]]\n')
sc(
    "together_and_apart.toml",
    '[clusters]\ncount = 2\n[rules]\ntogether = [["01", "02"]]\napart = [["01", "02"]]\n',
)
sc(
    "fixed_unknown_id.toml",
    '[clusters]\ncount = 2\n[rules]\nfixed = { "99" = "Cụm 1" }\n',
)
sc(
    "contiguous_no_adjacency.toml",
    "[clusters]\ncount = 2\n[rules]\ncontiguous = true\n",
)
sc(
    "contiguous_disconnected.toml",
    "[clusters]\ncount = 1\n[rules]\ncontiguous = true\n",
    adjacency="../adjacency_split.csv",
)
sc(
    "one_region_too_few_clusters.toml",
    "[clusters]\ncount = 1\n[rules]\none_region = true\n",
    units="../units_two_regions.csv",
)
sc(
    "max_moves_no_current.toml",
    "[clusters]\ncount = 2\n[rules]\nmax_moves = 1\n",
    units="../units_no_current.csv",
)
sc("max_moves_negative.toml", "[clusters]\ncount = 2\n[rules]\nmax_moves = -1\n")
sc(
    "mapping_unknown_header.toml",
    "[clusters]\ncount = 2\n",
    units='../units_ok.csv"\nid = "ma_tinh',
)
sc(
    "sheet_on_csv_missing.toml",
    "[clusters]\ncount = 2\n",
    units='../tables/several_sheets.xlsx"\nsheet = "Trang 9',
)
sc("name_not_string.toml", "name = 5\n", header=False)
sc("scenario_not_tables.toml", 'scenario = "a"\n', header=False)
sc(
    "contiguous_lost_zero_adjacency.toml",
    "[clusters]\ncount = 2\n[rules]\ncontiguous = true\n",
    adjacency="../adjacency/lost_zeros.csv",
)
sc(
    "bad_table_via_scenario.toml",
    "[clusters]\ncount = 2\n",
    units="../tables/negative_population.csv",
)
w(S + "empty.toml", "")
w(S + "binary.toml", b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
w(S + "not_utf8.toml", cp1258('name = "Hà Nội"\n[data]\nunits = "../units_ok.csv"\n'))
w(
    S + "several_no_name.toml",
    '[data]\nunits = "../units_ok.csv"\n[[scenario]]\nname = "a"\n[[scenario]]\nname = "b"\n',
)
