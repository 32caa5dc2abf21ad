from sept_ray.metrics import RunScore, aggregate, harmonic_mean
from sept_ray.report.studies import ablation_table, efficiency_table
from sept_ray.report.table import Table, to_text, write_files


def score(dataset, label, base, new, seed=0):
    return RunScore(dataset, label, seed, 1, base, new, harmonic_mean(base, new))


def test_ablation_layout_marks_switches_and_missing_rows():
    rows = aggregate(
        [
            score("A", "row1", 80, 40),
            score("B", "row1", 60, 60),
            score("A", "row7", 80, 50),
            score("B", "row7", 70, 60),
        ]
    )
    header, body = ablation_table(rows)
    assert header[:5] == ["#", "L_intra", "m_intra", "L_inter", "m_inter"]
    assert body[0][:5] == ["1", "", "", "", ""] and body[6][1:5] == ["✓"] * 4
    assert body[0][7] == f"{(harmonic_mean(80, 40) + 60) / 2:.2f}"
    assert body[1][5:8] == ["missing"] * 3  # row 2 never ran: missing, not zero
    assert "row" not in to_text(Table("ablation_table", "Ablation", header, body))


def test_efficiency_means_and_parameter_ranges(tmp_path):
    rows = aggregate(
        [score("A", "dept", 80, 40), score("B", "dept", 60, 60), score("A", "coop", 70, 50)]
    )
    finals = {
        "dept": [
            {
                "n_params": 9605,
                "train_seconds": 2.0,
                "infer_ms": 3.0,
                "infer_ms_cached_audio": 0.01,
            },
            {
                "n_params": 9990,
                "train_seconds": 4.0,
                "infer_ms": 5.0,
                "infer_ms_cached_audio": 0.03,
            },
        ],
        "coop": [
            {
                "n_params": 6144,
                "train_seconds": 1.0,
                "infer_ms": 2.5,
                "infer_ms_cached_audio": 0.002,
            }
        ],
    }
    header, body = efficiency_table(rows, finals)
    dept, coop = body
    assert dept[:5] == ["dept", "9,605–9,990", "3.0", "4.00", "0.0200"]
    assert dept[5] == f"{(harmonic_mean(80, 40) + 60) / 2:.2f}" and dept[6] == "2"
    assert coop[1] == "6,144" and coop[5] == f"{harmonic_mean(70, 50):.2f}"
    md, csv_path = write_files(Table("efficiency_table", "Efficiency", header, body), tmp_path)
    assert md.read_text().startswith("| Method | # Params |")
    assert csv_path.read_text().splitlines()[1].startswith("dept,")
