"""Cognito SRP reference values from pycognito (PyPI), for the cirrus SRP tests.

Reads one case as JSON on stdin: pool_id, user_id, password, a (hex), b (hex, the server's
secret), salt (hex, as the server writes it), secret_block (base64), timestamp.
Prints JSON: A, B, k, u, x, S (from pycognito's own helpers), S_server (the server's side of
SRP-6a, computed from the verifier), key (pycognito's HKDF), signature (pycognito's claim).
"""

import json
import sys

from pycognito import aws_srp
from pycognito.aws_srp import AWSSRP, N_HEX, G_HEX, hex_hash, hex_to_long, long_to_hex, pad_hex

case = json.load(sys.stdin)
N = hex_to_long(N_HEX)
g = hex_to_long(G_HEX)

srp = AWSSRP(case["user_id"], case["password"], case["pool_id"], "client-id", client=object())
srp.small_a_value = hex_to_long(case["a"]) % N
srp.large_a_value = srp.calculate_a()
k = srp.val_k

# The server's side: v = g^x, B = k*v + g^b.
pool_name = case["pool_id"].split("_")[1]
identity = aws_srp.hash_sha256(f"{pool_name}{case['user_id']}:{case['password']}".encode())
x = hex_to_long(hex_hash(pad_hex(case["salt"]) + identity))
v = pow(g, x, N)
b = hex_to_long(case["b"])
B = (k * v + pow(g, b, N)) % N
u = aws_srp.calculate_u(srp.large_a_value, B)
S = pow(B - k * pow(g, x, N), srp.small_a_value + u * x, N)
S_server = pow(srp.large_a_value * pow(v, u, N), b, N)

key = srp.get_password_authentication_key(case["user_id"], case["password"], B, case["salt"])
srp.get_cognito_formatted_timestamp = lambda _now: case["timestamp"]
claim = srp.process_challenge(
    {
        "USER_ID_FOR_SRP": case["user_id"],
        "SALT": case["salt"],
        "SRP_B": long_to_hex(B),
        "SECRET_BLOCK": case["secret_block"],
    },
    {"USERNAME": case["user_id"]},
)
print(json.dumps({
    "A": long_to_hex(srp.large_a_value),
    "B": long_to_hex(B),
    "k": long_to_hex(k),
    "u": long_to_hex(u),
    "x": long_to_hex(x),
    "S": long_to_hex(S),
    "S_server": long_to_hex(S_server),
    "key": key.hex(),
    "signature": claim["PASSWORD_CLAIM_SIGNATURE"],
    "timestamp": claim["TIMESTAMP"],
}))
