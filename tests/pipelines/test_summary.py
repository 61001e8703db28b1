"""convlab.pipelines.summary: the one shape formatter and the summary table."""

from convlab.engine.nets import build_network
from convlab.pipelines.summary import rf_text, summary_table
from convlab.render.tiles import shape_text


def test_shape_text_is_the_one_formatter():
    from convlab.engine import wording

    assert shape_text is wording.shape_text  # render's name for it is the same function
    assert shape_text((96, 55, 55)) == "96 × 55 × 55"  # the window's style
    assert shape_text((96, 55, 55), "x") == "96x55x55"  # the terminal table's
    assert shape_text(None) == shape_text(()) == "—"


def test_summary_table_totals_and_receptive_fields():
    rows = build_network("alexbn", init=False).summary((3, 227, 227))
    table = summary_table(rows, (3, 227, 227))
    assert "Total params: 62,379,048" in table
    assert rf_text(next(r for r in rows if r.name == "pool5")) == "195 / 32"
