"""Notebook 04's prose, checked at the notebook's full settings and seeds, with its helpers."""
import pytest
import torch
from torch import nn

from rnncourse import setup
from rnncourse.charlm import COMPARE_STEPS, compare_cells
from rnncourse.data import read_text
from rnncourse.probes import gradient_by_lag, lstm_gate_activations
from rnncourse.tasks import (ADDING_CHANCE_MSE, ADDING_STEPS, ADDING_UPDATES, QUOTE_ALPHABET, QUOTE_UPDATES,
                             LastStepRegressor, adding_problem, encode_chars, inside_quotes,
                             train_adding, train_quote_tracker)

CELLS = (("RNN", nn.RNN), ("LSTM", nn.LSTM), ("GRU", nn.GRU))


@pytest.fixture(scope="module")
def adding():
    """Section 8's three models after training, and their validation histories."""
    setup(0)
    x_val, y_val = adding_problem(512, ADDING_STEPS, torch.Generator().manual_seed(1234))
    models, histories = {}, {}
    for name, recurrent in CELLS:
        torch.manual_seed(0)
        models[name] = LastStepRegressor(recurrent)
        histories[name] = train_adding(models[name], ADDING_UPDATES, x_val, y_val)
    return models, histories


@pytest.mark.slow
def test_gated_models_solve_the_adding_problem_and_the_rnn_stays_at_chance(adding):
    """'watch an LSTM and a GRU solve a long-dependency task on which a vanilla RNN stays at chance'."""
    _, histories = adding
    final = {name: history[-1][1] for name, history in histories.items()}
    assert final["RNN"] > 0.9 * ADDING_CHANCE_MSE, final
    assert final["LSTM"] < 0.02 * ADDING_CHANCE_MSE and final["GRU"] < 0.02 * ADDING_CHANCE_MSE, final


@pytest.mark.slow
def test_gradient_by_lag(adding):
    """'At initialisation both curves fall geometrically with the lag, and the LSTM's falls
    faster'; 'after training the RNN's gradient still falls by several orders of magnitude over
    60 steps, while the LSTM's stays flat at every lag'."""
    models, _ = adding
    x_probe, _ = adding_problem(256, ADDING_STEPS, torch.Generator().manual_seed(7))
    fresh = {}
    for name, recurrent in CELLS[:2]:
        torch.manual_seed(0)
        fresh[name] = gradient_by_lag(LastStepRegressor(recurrent), x_probe)
    for curve in fresh.values():
        assert curve[-1] < 1e-3 * curve[0]
    assert fresh["LSTM"][-1] / fresh["LSTM"][0] < fresh["RNN"][-1] / fresh["RNN"][0]
    rnn, lstm = (gradient_by_lag(models[name], x_probe) for name in ("RNN", "LSTM"))
    assert rnn[-1] < 1e-3 * rnn[0]
    assert lstm.max() < 10 * lstm.min()


@pytest.mark.slow
def test_quote_tracker_gates():
    """'At each quote mark several units' forget gates drop to near 0 for one character';
    'tanh(c_t) has opposite signs inside and outside the quotation'; 'inside a quotation some
    input gates close'."""
    setup(0)
    model = train_quote_tracker(QUOTE_UPDATES)
    sentence = ('The cat, which already ate, was full. "Not again," she said, '
                '"the cat ate my dinner." Then she left.')
    ids = encode_chars(sentence)
    gates = lstm_gate_activations(model.lstm, nn.functional.one_hot(ids, len(QUOTE_ALPHABET)).float()[None])
    inside = inside_quotes(ids).bool()
    quotes = torch.tensor([ch == '"' for ch in sentence])
    forget, cell, inp = gates["forget"][0], torch.tanh(gates["cell"][0]), gates["input"][0]   # (T, H)
    assert ((forget[quotes] < 0.1).all(dim=0)).sum() >= 2
    agree = ((cell > 0) == inside[:, None]).float().mean(dim=0)
    assert torch.maximum(agree, 1 - agree).max() > 0.95
    assert (inp[inside].mean(dim=0) < 0.5 * inp[~inside].mean(dim=0)).any()


@pytest.mark.slow
def test_char_models_table():
    """Section 9: the table's comparison at the full step budget."""
    setup(0)
    train, valid = read_text("shakespeare/train.txt"), read_text("shakespeare/valid.txt")
    chars = sorted(set(train))
    char_id = {c: i for i, c in enumerate(chars)}
    table = compare_cells(torch.tensor([char_id[c] for c in train]), torch.tensor([char_id[c] for c in valid]),
                          len(chars), COMPARE_STEPS)
    bpc = {cell: row["bpc"] for cell, row in table.items()}
    assert bpc["LSTM"] < bpc["RNN"] and bpc["GRU"] < bpc["RNN"], bpc


@pytest.mark.slow
def test_gated_models_first_sit_near_chance(adding):
    """'Both gated models first sit near chance ... and then drop'."""
    _, histories = adding
    for name in ("LSTM", "GRU"):
        assert histories[name][1][1] > 0.5 * ADDING_CHANCE_MSE, histories[name][:4]


def test_parameter_multiples():
    """'The LSTM has 4x and the GRU 3x the parameters of a vanilla RNN of the same size'."""
    for d, h in ((3, 5), (76, 256)):
        n = {name: sum(p.numel() for p in cell(d, h).parameters()) for name, cell in CELLS}
        assert n["LSTM"] == 4 * n["RNN"] and n["GRU"] == 3 * n["RNN"]
