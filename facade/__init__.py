"""qianfan-facade: a typed, pluggable facade over Baidu Qianfan's console API."""
