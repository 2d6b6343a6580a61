#!/usr/bin/env python3
"""A PCCS for tests: Intel's v4 collateral API over HTTPS, its answers made from a real
QuoteCollateralV3 file (the signed TCB Info and QE Identity bytes kept exact, the issuer chains
URL-encoded in the headers Intel uses). Every request is appended to LOG. If the file BROKEN
exists, the TCB-Info-Issuer-Chain header is garbage.

  fake_pccs.py COLLATERAL CERT KEY LOG BROKEN   (prints 'listening on 127.0.0.1:PORT')
"""
import http.server
import json
import os
import ssl
import sys
import urllib.parse

coll, cert, key, log, broken = sys.argv[1:6]
c = json.load(open(coll))
q = urllib.parse.quote


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        open(log, "a").write(self.path + "\n")
        api = "/sgx/certification/v4"
        hdr = {}
        if self.path.startswith(api + "/tcb?fmspc="):
            body = '{"tcbInfo":%s,"signature":"%s"}' % (c["tcb_info"], c["tcb_info_signature"])
            hdr["TCB-Info-Issuer-Chain"] = "%%zz" if os.path.exists(broken) else q(c["tcb_info_issuer_chain"])
        elif self.path == api + "/qe/identity":
            body = '{"enclaveIdentity":%s,"signature":"%s"}' % (c["qe_identity"], c["qe_identity_signature"])
            hdr["SGX-Enclave-Identity-Issuer-Chain"] = q(c["qe_identity_issuer_chain"])
        elif self.path == api + "/pckcrl?ca=processor":
            body = c["pck_crl"]
            hdr["SGX-PCK-CRL-Issuer-Chain"] = q(c["pck_crl_issuer_chain"])
        elif self.path == api + "/rootcacrl":
            body = c["root_ca_crl"]
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        b = body.encode()
        self.send_response(200)
        for k, v in hdr.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)


srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("listening on 127.0.0.1:%d" % srv.server_address[1], flush=True)
srv.serve_forever()
