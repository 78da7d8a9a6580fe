"""Notebook 01's prose, checked: the parameter count of the lecture notes' example."""
from torch import nn


def test_lecture_notes_example_has_200_more_parameters_than_the_stacked_matrix():
    """'nn.RNN(10_000, 100) ... 200 more than the lecture notes' 100 x 10,100 matrix'."""
    rnn = nn.RNN(10_000, 100)
    assert tuple(rnn.weight_ih_l0.shape) == (100, 10_000) and tuple(rnn.weight_hh_l0.shape) == (100, 100)
    assert sum(p.numel() for p in rnn.parameters()) == 100 * 10_100 + 200
