"""Correct solutions of every exercise, written for the tests (never shipped in the package),
and the wrong variants the grader must catch. Each solution is source text: the grader loads
the learner's FILE."""

SOLUTIONS = {}

SOLUTIONS["linear"] = '''
import numpy as np
def linear_forward(x, w, b):
    return x @ w.T + b, (x, w)
def linear_backward(dout, cache):
    x, w = cache
    return dout @ w, dout.T @ x, dout.sum(axis=0)
'''

SOLUTIONS["softmax"] = '''
import numpy as np
def softmax_cross_entropy_forward(z, y):
    shift = z - z.max(axis=1, keepdims=True)
    logp = shift - np.log(np.exp(shift).sum(axis=1, keepdims=True))
    n = len(y)
    return -logp[np.arange(n), y].mean(), (np.exp(logp), y)
def softmax_cross_entropy_backward(dloss, cache):
    p, y = cache
    d = p.copy()
    d[np.arange(len(y)), y] -= 1
    return dloss * d / len(y)
'''

SOLUTIONS["activations"] = '''
import numpy as np
def sigmoid_forward(z):
    s = 0.5 * (1 + np.tanh(0.5 * z))
    return s, s
def sigmoid_backward(dout, s):
    return dout * s * (1 - s)
def tanh_forward(z):
    h = np.tanh(z)
    return h, h
def tanh_backward(dout, h):
    return dout * (1 - h * h)
def relu_forward(z):
    return np.maximum(z, 0), z
def relu_backward(dout, z):
    return dout * (z > 0)
'''

SOLUTIONS["mlp"] = '''
import numpy as np
def mlp_forward(x, W1, b1, W2, b2):
    z1 = x @ W1.T + b1
    h = np.maximum(z1, 0)
    return h @ W2.T + b2, (x, W1, W2, z1, h)
def mlp_backward(dy, cache):
    x, W1, W2, z1, h = cache
    dW2, db2, dh = dy.T @ h, dy.sum(0), dy @ W2
    dz1 = dh * (z1 > 0)
    return dz1 @ W1, dz1.T @ x, dz1.sum(0), dW2, db2
'''

SOLUTIONS["momentum"] = '''
import numpy as np
def sgd_momentum(w, dw, v, lr, momentum):
    v = momentum * v - lr * dw
    return w + v, v
'''

SOLUTIONS["adam"] = '''
import numpy as np
def adam(w, dw, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw * dw
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
'''

SOLUTIONS["dropout"] = '''
import numpy as np
def dropout_forward(x, p, train, seed):
    if not train:
        return x.copy(), np.ones_like(x)
    scale = (np.random.default_rng(seed).random(x.shape) >= p) / (1 - p)
    return x * scale, scale
def dropout_backward(dout, scale):
    return dout * scale
'''

SOLUTIONS["conv2d"] = '''
import numpy as np
def _cols(xp, kh, kw, s, oh, ow):
    n, c = xp.shape[:2]
    cols = np.empty((n, c, kh, kw, oh, ow))
    for u in range(kh):
        for v in range(kw):
            cols[:, :, u, v] = xp[:, :, u:u + s * (oh - 1) + 1:s, v:v + s * (ow - 1) + 1:s]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1)
def conv2d_forward(x, w, b, stride, padding):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1
    cols = _cols(xp, kh, kw, stride, oh, ow)
    z = cols @ w.reshape(o, -1).T + b
    return z.reshape(n, oh, ow, o).transpose(0, 3, 1, 2), (cols, w, xp.shape, stride, padding)
def conv2d_backward(dout, cache):
    cols, w, pad_shape, s, p = cache
    n, o, oh, ow = dout.shape
    _, c, kh, kw = w.shape
    dz = dout.transpose(0, 2, 3, 1).reshape(-1, o)
    dw = (dz.T @ cols).reshape(w.shape)
    dcols = (dz @ w.reshape(o, -1)).reshape(n, oh, ow, c, kh, kw)
    dxp = np.zeros(pad_shape)
    for u in range(kh):
        for v in range(kw):
            dxp[:, :, u:u + s * (oh - 1) + 1:s, v:v + s * (ow - 1) + 1:s] += \\
                dcols[:, :, :, :, u, v].transpose(0, 3, 1, 2)
    return dxp[:, :, p:pad_shape[2] - p, p:pad_shape[3] - p], dw, dz.sum(0)
'''

SOLUTIONS["max_pool"] = '''
import numpy as np
def max_pool_forward(x, pool_size, stride):
    n, c, h, w = x.shape
    k, s = pool_size, stride
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    win = np.empty((n, c, oh, ow, k * k))
    for u in range(k):
        for v in range(k):
            win[..., u * k + v] = x[:, :, u:u + s * (oh - 1) + 1:s, v:v + s * (ow - 1) + 1:s]
    arg = win.argmax(axis=-1)
    return win.max(axis=-1), (x.shape, arg, k, s)
def max_pool_backward(dout, cache):
    shape, arg, k, s = cache
    oh, ow = dout.shape[2:]
    dx = np.zeros(shape)
    for u in range(k):
        for v in range(k):
            dx[:, :, u:u + s * (oh - 1) + 1:s, v:v + s * (ow - 1) + 1:s] += \\
                dout * (arg == u * k + v)
    return dx
'''

SOLUTIONS["batchnorm"] = '''
import numpy as np
def batchnorm_forward(x, gamma, beta, eps):
    mu, var = x.mean(0), x.var(0)
    std = np.sqrt(var + eps)
    xh = (x - mu) / std
    return gamma * xh + beta, (xh, std, gamma)
def batchnorm_backward(dout, cache):
    xh, std, gamma = cache
    d = dout * gamma
    dx = (d - d.mean(0) - xh * (d * xh).mean(0)) / std
    return dx, (dout * xh).sum(0), dout.sum(0)
'''

SOLUTIONS["rnn"] = '''
import numpy as np
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h = np.tanh(x @ Wx.T + h_prev @ Wh.T + b)
    return h, (x, h_prev, Wx, Wh, h)
def rnn_step_backward(dh, cache):
    x, h_prev, Wx, Wh, h = cache
    dz = dh * (1 - h * h)
    return dz @ Wx, dz @ Wh, dz.T @ x, dz.T @ h_prev, dz.sum(0)
def rnn_forward(x, h0, Wx, Wh, b):
    n, t, _ = x.shape
    hs, caches, h = np.empty((n, t, len(b))), [], h0
    for k in range(t):
        h, c = rnn_step_forward(x[:, k], h, Wx, Wh, b)
        hs[:, k] = h
        caches.append(c)
    return hs, caches
def rnn_backward(dh, caches):
    n, t, _ = dh.shape
    x0, _, Wx, Wh, _ = caches[0]
    dx = np.zeros((n, t, Wx.shape[1]))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dprev = np.zeros((n, Wh.shape[0]))
    for k in reversed(range(t)):
        dx[:, k], dprev, a, bb, c = rnn_step_backward(dh[:, k] + dprev, caches[k])
        dWx += a
        dWh += bb
        db += c
    return dx, dprev, dWx, dWh, db
'''

SOLUTIONS["lstm"] = '''
import numpy as np
def _s(a):
    return 0.5 * (1 + np.tanh(0.5 * a))
def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    H = h_prev.shape[1]
    a = x @ Wx.T + h_prev @ Wh.T + b
    i, f, g, o = _s(a[:, :H]), _s(a[:, H:2*H]), np.tanh(a[:, 2*H:3*H]), _s(a[:, 3*H:])
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    return h, c, (x, h_prev, c_prev, Wx, Wh, i, f, g, o, c)
def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, Wx, Wh, i, f, g, o, c = cache
    tc = np.tanh(c)
    dc = dc + dh * o * (1 - tc ** 2)
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                         dc * i * (1 - g ** 2), dh * tc * o * (1 - o)], axis=1)
    return da @ Wx, da @ Wh, dc * f, da.T @ x, da.T @ h_prev, da.sum(0)
'''


def mutate(name: str, old: str, new: str) -> str:
    """The solution of ``name`` with one mistake put in (old must occur exactly once)."""
    source = SOLUTIONS[name]
    assert source.count(old) == 1, (name, old)
    return source.replace(old, new)


#: (exercise, old, new, the hint it must trigger (a regex)).
WRONG = [
    ("linear", "dout.T @ x", "x.T @ dout", r"missing transpose"),
    ("linear", "dout.sum(axis=0)", "dout", r"sum over the examples \(axis 0\)"),
    ("linear", "return dout @ w, dout.T @ x", "return dout @ w, dout.T @ x / len(x)",
     r"divided by N once too often"),
    ("linear", "return dout @ w,", "return -(dout @ w),", r"sign error"),
    ("softmax", "shift = z - z.max(axis=1, keepdims=True)", "shift = z",
     r"subtract each row's maximum"),
    ("softmax", "return dloss * d / len(y)", "return dloss * d", r"forgotten 1/N"),
    ("softmax", "return dloss * d / len(y)", "return d / len(y)", r"multiply by dloss"),
    ("activations", "return dout * s * (1 - s)", "return dout * s", r"\(1 − σ\(z\)\) is missing"),
    ("activations", "return dout * (1 - h * h)", "return dout * (1 - h)", r"tanh is squared"),
    ("activations", "return dout * (z > 0)", "return dout", r"mask \[z > 0\]"),
    ("mlp", "dz1 = dh * (z1 > 0)", "dz1 = dh", r"mask is missing"),
    ("mlp", "dW2, db2, dh = dy.T @ h", "dW2, db2, dh = h.T @ dy", r"transposed shape"),
    ("momentum", "return w + v, v", "return w - v, v", r"uphill"),
    ("momentum", "return w + v, v", "return w - lr * dw, v", r"plain gradient descent"),
    ("adam", "m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)", "m_hat, v_hat = m, v",
     r"bias correction is missing"),
    ("adam", "np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)", r"outside the square root"),
    ("dropout", "/ (1 - p)", "", r"scales the kept units by 1/\(1 − p\)"),
    ("dropout", "/ (1 - p)", "/ p", r"not by 1/p"),
    ("dropout", ">= p)", "< p)", r"probability of DROPPING"),
    ("conv2d", "cols @ w.reshape(o, -1).T", "cols @ w[:, :, ::-1, ::-1].reshape(o, -1).T",
     r"flipped the kernel"),
    ("conv2d", "return dxp[:, :, p:pad_shape[2] - p, p:pad_shape[3] - p], dw, dz.sum(0)",
     "return dxp[:, :, p:pad_shape[2] - p, p:pad_shape[3] - p], dw, dout.sum(0)",
     r"one value per output channel"),
    ("conv2d", "] += \\\n                dcols", "] = \\\n                dcols",
     r"SUM of their gradients"),
    ("batchnorm", "mu, var = x.mean(0), x.var(0)", "mu, var = x.mean(0), x.var(0, ddof=1)",
     r"divides by N"),
    ("batchnorm", "dx = (d - d.mean(0) - xh * (d * xh).mean(0)) / std", "dx = d / std",
     r"μ and σ² depend on x"),
    ("rnn", "rnn_step_backward(dh[:, k] + dprev, caches[k])",
     "rnn_step_backward(dh[:, k], caches[k])", r"step t\+1 sends back"),
    ("lstm", "i, f, g, o = _s(a[:, :H]), _s(a[:, H:2*H]), np.tanh(a[:, 2*H:3*H]), _s(a[:, 3*H:])",
     "i, f, o, g = _s(a[:, :H]), _s(a[:, H:2*H]), _s(a[:, 2*H:3*H]), np.tanh(a[:, 3*H:])",
     r"order i, f, g, o"),
    ("lstm", "dc = dc + dh * o * (1 - tc ** 2)", "dc = dc", r"c̄ also flows in through h"),
]

#: A max-pool backward that copies the gradient to every tied maximum (a typical mistake).
TIES_EVERYWHERE = SOLUTIONS["max_pool"].replace(
    "dout * (arg == u * k + v)",
    "dout * (x_of(cache)[:, :, u:u + s * (oh - 1) + 1:s, v:v + s * (ow - 1) + 1:s] == "
    "mx_of(cache))").replace(
    "return win.max(axis=-1), (x.shape, arg, k, s)",
    "return win.max(axis=-1), (x.shape, arg, k, s, x, win.max(axis=-1))").replace(
    "shape, arg, k, s = cache", "shape, arg, k, s, _, _ = cache") + '''
def x_of(cache):
    return cache[4]
def mx_of(cache):
    return cache[5]
'''
