"""Measuring how gradients flow back through time in a vanilla RNN, and plotting it.

Used by notebook 02 for the vanishing/exploding-gradient figure (Pascanu, Mikolov & Bengio,
"On the difficulty of training recurrent neural networks", 2013).
"""
import matplotlib.pyplot as plt
import torch


def scaled_recurrent_weight(hidden: int, radius: float, generator: torch.Generator | None = None):
    """A random ``(H, H)`` matrix rescaled so its spectral radius (largest |eigenvalue|) is ``radius``."""
    W = torch.randn(hidden, hidden, generator=generator, dtype=torch.float64)
    rho = torch.linalg.eigvals(W).abs().max()
    return (W * (radius / rho)).float()


def hidden_grad_norms(x, W_xh, W_hh, b, activation=torch.tanh) -> list[float]:
    """||dL/dh_t|| for t = 1..T when the loss L = sum(h_T) sits at the last step only.

    ``x (B, T, D)``; weights shaped as in the course (``W_xh (H, D)``, ``W_hh (H, H)``). Autograd
    measures the gradient each hidden state receives (``retain_grad`` keeps it), averaged
    over the batch, so the curve shows how much of the last step's error reaches step t.
    """
    h = x.new_zeros(x.shape[0], W_hh.shape[0]).requires_grad_(True)  # so every h_t joins the graph
    states = []
    for t in range(x.shape[1]):
        h = activation(x[:, t] @ W_xh.T + h @ W_hh.T + b)   # (B, H)
        h.retain_grad()
        states.append(h)
    h.sum().backward()
    return [s.grad.norm(dim=1).mean().item() for s in states]


def plot_grad_norms(curves: dict[str, list[float]], title: str = "", ax=None):
    """One line per label: ||dL/dh_t|| against t on a log scale (straight lines mean geometric decay)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for label, norms in curves.items():
        ax.semilogy(range(1, len(norms) + 1), norms, label=label)
    ax.set_xlabel("time step t (the loss is at the last step)")
    ax.set_ylabel(r"$\|\partial L / \partial h_t\|$")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return ax
