"""Looking inside trained recurrent models: how far back gradients reach, and what LSTM gates do.

Used by notebook 04 (LSTM and GRU); the functions take a model and inputs, never globals.
"""
import matplotlib.pyplot as plt
import torch
from torch import nn


def gradient_by_lag(predict, x: torch.Tensor) -> torch.Tensor:
    """Mean norm of the gradient of the prediction with respect to each input step, by lag.

    ``predict`` maps ``x (B, T, D)`` to one number per sequence ``(B,)``. Returns a ``(T,)``
    tensor whose entry ``k`` is the mean over the batch of ``||d prediction / d x_{T-1-k}||``: how
    strongly the input ``k`` steps before the end can still move the answer (lag 0 is the last
    step). A curve that falls off a cliff is a vanishing gradient.
    """
    x = x.detach().clone().requires_grad_(True)
    predict(x).sum().backward()
    per_step = x.grad.norm(dim=-1).mean(dim=0)           # (T,): one norm per input position
    return per_step.flip(0)                              # index by lag, 0 = last step


def lstm_gate_activations(lstm: nn.LSTM, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Gate activations of a one-layer ``nn.LSTM(batch_first=True)`` run on ``x (B, T, D)``.

    ``nn.LSTM`` does not return its gates, so the sequence is fed one step at a time (carrying
    ``(h, c)``) to record every ``h_{t-1}`` and ``c_t``, and the gates are recomputed from the
    weights: each reads ``x_t`` and ``h_{t-1}``. Returns a dict with ``"input"``, ``"forget"``,
    ``"output"`` (sigmoids in (0, 1)) and ``"cell"`` (c_t), each ``(B, T, H)``.
    """
    B, T, _ = x.shape
    h = c = torch.zeros(1, B, lstm.hidden_size)
    h_prev, cells = [], []
    with torch.no_grad():
        for t in range(T):
            h_prev.append(h[0])
            _, (h, c) = lstm(x[:, t:t + 1], (h, c))
            cells.append(c[0])
        h_prev = torch.stack(h_prev, dim=1)                          # (B, T, H)
        pre = (x @ lstm.weight_ih_l0.T + lstm.bias_ih_l0
               + h_prev @ lstm.weight_hh_l0.T + lstm.bias_hh_l0)     # (B, T, 4H)
        pre_i, pre_f, _, pre_o = pre.chunk(4, dim=-1)                # PyTorch's order: i, f, g, o
    return {"input": torch.sigmoid(pre_i), "forget": torch.sigmoid(pre_f),
            "output": torch.sigmoid(pre_o), "cell": torch.stack(cells, dim=1)}


SIGMOID_GATES = ("input", "forget", "output")


def plot_gate_heatmaps(panels: dict[str, torch.Tensor], text: str, curve: tuple[str, torch.Tensor],
                       truth: tuple[str, torch.Tensor]):
    """One heatmap per panel (rows: hidden units, columns: the characters of ``text``), and
    underneath a ``(name, (T,))`` curve (a prediction) over a shaded ``(name, (T,))`` 0/1 truth.

    ``panels`` maps a name to a ``(T, H)`` tensor for one sequence. The sigmoid gates (named
    ``"input"``, ``"forget"``, ``"output"``) share a fixed 0..1 scale so they compare; any other
    panel (a cell state) gets a symmetric red-blue scale.
    """
    rows = len(panels) + 1
    fig, axes = plt.subplots(rows, 1, figsize=(max(8, 0.16 * len(text)), 1.3 * rows + 0.8),
                             sharex=True, constrained_layout=True)
    for ax, (name, values) in zip(axes, panels.items()):
        values = values.T                                            # (H, T): units as rows
        if name in SIGMOID_GATES:
            im = ax.imshow(values, aspect="auto", cmap="viridis", vmin=0, vmax=1)
        else:
            limit = values.abs().max().item()
            im = ax.imshow(values, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_ylabel(f"{name}\nunit", fontsize=11)
        fig.colorbar(im, ax=ax, pad=0.01, aspect=8)
    ax = axes[-1]
    steps_x = range(len(text))
    ax.fill_between(steps_x, truth[1].float().tolist(), step="mid", color="0.85", label=truth[0])
    ax.plot(steps_x, curve[1].tolist(), drawstyle="steps-mid", color="tab:blue", lw=2, label=curve[0])
    ax.set_ylim(-0.05, 1.1)
    ax.legend(loc="upper left", fontsize=10, ncols=2)
    # an invisible colour bar keeps this panel as wide as the heatmaps above
    fig.colorbar(im, ax=ax, pad=0.01, aspect=8).ax.set_visible(False)
    axes[-1].set_xticks(steps_x, list(text.replace(" ", "\u2423")), fontsize=11)
    return axes
