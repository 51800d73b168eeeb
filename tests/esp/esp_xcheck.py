# SPDX-License-Identifier: BSD-3-Clause
"""Cross-check of our ESP output against decoders nobody here wrote.

esp_pcapgen writes ESP packets made by esp_outb_burst() and the inner
packets they must carry. Two independent decoders read the pcap:

- tshark 4.0 with ESP decryption and ICV checking from -o preferences
  only (HOME is a fresh temp dir, so no user profile can add SAs). It
  checks HMAC ICVs and, in 4.0.17, AES-GCM tags too (a flipped tag shows
  as incorrect); it has no ChaCha20-Poly1305 and no ESN (its SA table has
  no ESN column), and it decodes ESP-in-UDP on 4500 (udp:udpencap:esp);
- scapy's ESP code (AES-CBC/GCM, DES, 3DES, ChaCha20-Poly1305 and their
  tags) plus Python's hmac module for HMAC ICVs (scapy's ESP verify
  ignores the ESN high bits, so it cannot check ESN with HMAC).

For each packet: it decrypts, the inner bytes equal the expected packet
exactly, next header and padding are right, the ICV or tag verifies (ESN:
over the high 32 bits too), the outer headers are right (addresses,
lengths, checksums, UDP 4500 for ESP-in-UDP) and sequence numbers count up
from the SA's start, across 2^32 with ESN.

Negative control in the same run: a copy of the pcap with one ciphertext
byte flipped in one packet and one ICV byte flipped in another, per case.
The checker must report exactly those packets as bad (per decoder that can
see the fault), and every other packet as good; otherwise the test fails.

Usage: esp_xcheck.py PCAPGEN TSHARK
"""

import hashlib
import hmac
import os
import socket
import struct
import subprocess
import sys
import tempfile

from scapy.layers.ipsec import ESP, IPSecIntegrityError, SecurityAssociation

# Our config names -> (tshark 4.0 UAT name or None, scapy name, IV, ICV, block).
# Sizes come from the RFCs, not from our catalogue, so a wrong catalogue row
# shows up here as a mismatch.
ENCR = {
    "null": ("NULL", "NULL", 0, 0, 4),
    "des": ("DES-CBC [RFC2405]", "DES", 8, 0, 8),
    "3des": ("TripleDES-CBC [RFC2451]", "3DES", 8, 0, 8),
    "aes": ("AES-CBC [RFC3602]", "AES-CBC", 16, 0, 16),
    "aes192": ("AES-CBC [RFC3602]", "AES-CBC", 16, 0, 16),
    "aes256": ("AES-CBC [RFC3602]", "AES-CBC", 16, 0, 16),
    "aes-gcm-128": ("AES-GCM with 16 octet ICV [RFC4106]", "AES-GCM", 8, 16, 4),
    "aes-gcm-192": ("AES-GCM with 16 octet ICV [RFC4106]", "AES-GCM", 8, 16, 4),
    "aes-gcm-256": ("AES-GCM with 16 octet ICV [RFC4106]", "AES-GCM", 8, 16, 4),
    # tshark 4.0 has no ChaCha20-Poly1305 for ESP (it came with 4.2).
    "chacha20-poly1305": (None, "CHACHA20-POLY1305", 8, 16, 4),
}

# name -> (tshark UAT name, hash, ICV bytes)
INTEG = {
    "none": ("NULL", None, 0),
    "md5": ("HMAC-MD5-96 [RFC2403]", hashlib.md5, 12),
    "sha1": ("HMAC-SHA-1-96 [RFC2404]", hashlib.sha1, 12),
    "sha256": ("HMAC-SHA-256-128 [RFC4868]", hashlib.sha256, 16),
    "sha384": ("HMAC-SHA-384-192 [RFC4868]", hashlib.sha384, 24),
    "sha512": ("HMAC-SHA-512-256 [RFC4868]", hashlib.sha512, 32),
}

OUTER = {4: ("198.51.100.1", "198.51.100.2"), 6: ("2001:db8::1", "2001:db8::2")}


class Case:
    def __init__(self, f):
        (self.name, spi, fam, self.src, self.dst, self.encr, self.integ, ek, ak, esn,
         first, udp) = f
        self.spi = int(spi, 16)
        self.family = int(fam)
        self.enc_key = b"" if ek == "-" else bytes.fromhex(ek)
        self.auth_key = b"" if ak == "-" else bytes.fromhex(ak)
        self.esn = esn == "1"
        self.first_seq = int(first)
        self.udp = udp == "1"
        self.tshark_encr, self.scapy_encr, self.iv_len, tag, self.block = ENCR[self.encr]
        self.tshark_integ, self.hash, icv = INTEG[self.integ]
        self.aead = tag > 0
        self.icv_len = tag or icv
        self.packets = 0

    @property
    def tshark_ok(self):
        return self.tshark_encr is not None

    def uat(self):
        """One tshark esp_sa UAT row (the 4.0 table has no ESN column)."""
        proto = "IPv4" if self.family == 4 else "IPv6"
        ak = "0x" + self.auth_key.hex() if self.auth_key else ""
        ek = "0x" + self.enc_key.hex() if self.enc_key else ""
        return 'uat:esp_sa:"%s","%s","%s","0x%08x","%s","%s","%s","%s"' % (
            proto, self.src, self.dst, self.spi, self.tshark_encr, ek, self.tshark_integ, ak)


class Packet:
    def __init__(self, frame, case, seq, inner):
        self.frame = frame  # 1-based, as tshark numbers frames
        self.case = case
        self.seq = seq
        self.inner = inner


def read_manifest(path):
    cases, by_spi, packets = [], {}, []
    with open(path) as f:
        for line in f:
            w = line.split()
            if w[0] == "case":
                c = Case(w[1:])
                cases.append(c)
                by_spi[c.spi] = c
            elif w[0] == "pkt":
                c = by_spi[int(w[1], 16)]
                packets.append(Packet(len(packets) + 1, c, int(w[2]), bytes.fromhex(w[3])))
                c.packets += 1
            else:
                raise SystemExit("bad manifest line: " + line)
    return cases, packets


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, _, _, _, _, _, linktype = struct.unpack_from("<IHHiIII", data, 0)
    if magic != 0xA1B2C3D4 or linktype != 101:
        raise SystemExit("%s: not a little-endian LINKTYPE_RAW pcap" % path)
    off, frames = 24, []
    while off < len(data):
        _, _, incl, orig = struct.unpack_from("<IIII", data, off)
        if incl != orig:
            raise SystemExit("%s: truncated record" % path)
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return data[:24], frames


def write_pcap(path, header, frames):
    with open(path, "wb") as f:
        f.write(header)
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)))
            f.write(fr)


def csum(data):
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def ip_bytes(family, text):
    return socket.inet_pton(socket.AF_INET if family == 4 else socket.AF_INET6, text)


def outer_check(pkt, raw, bad):
    """Checks the outer headers; returns the offset of the ESP header or None."""
    c = pkt.case
    if c.family == 4:
        if len(raw) < 20 or raw[0] != 0x45:
            return bad("outer: not an IPv4 header without options")
        if struct.unpack_from("!H", raw, 2)[0] != len(raw):
            return bad("outer: IPv4 total length %d, packet %d" %
                       (struct.unpack_from("!H", raw, 2)[0], len(raw)))
        if csum(raw[:20]) != 0xFFFF:
            return bad("outer: IPv4 header checksum wrong")
        if raw[6] & 0x3F or raw[7]:
            return bad("outer: IPv4 fragment")
        proto, off = raw[9], 20
        src, dst = raw[12:16], raw[16:20]
    else:
        if len(raw) < 40 or raw[0] >> 4 != 6:
            return bad("outer: not IPv6")
        if struct.unpack_from("!H", raw, 4)[0] != len(raw) - 40:
            return bad("outer: IPv6 payload length wrong")
        proto, off = raw[6], 40
        src, dst = raw[8:24], raw[24:40]
    if src != ip_bytes(c.family, c.src) or dst != ip_bytes(c.family, c.dst):
        return bad("outer: addresses are not the SA's tunnel endpoints")
    if c.udp:
        if proto != 17:
            return bad("outer: protocol %d, expected UDP (17)" % proto)
        sport, dport, ulen, ucs = struct.unpack_from("!HHHH", raw, off)
        if sport != 4500 or dport != 4500:
            return bad("outer: UDP ports %d -> %d, expected 4500 -> 4500" % (sport, dport))
        if ulen != len(raw) - off:
            return bad("outer: UDP length %d, expected %d" % (ulen, len(raw) - off))
        if ucs or c.family == 6:
            # RFC 3948 2.1: IPv4 may send 0. IPv6 (RFC 8200 8.1) must checksum.
            if c.family == 4:
                pseudo = src + dst + struct.pack("!BBH", 0, 17, ulen)
            else:
                pseudo = src + dst + struct.pack("!IxxxB", ulen, 17)
            if ucs == 0 or csum(pseudo + raw[off:]) != 0xFFFF:
                return bad("outer: UDP checksum 0x%04x wrong" % ucs)
        off += 8
    elif proto != 50:
        return bad("outer: protocol %d, expected ESP (50)" % proto)
    return off


def scapy_check(packets, frames):
    """Independent decode with scapy (+ hmac); returns {frame: [faults]}."""
    faults = {}
    for pkt, raw in zip(packets, frames):
        c = pkt.case
        msgs = faults.setdefault(pkt.frame, [])

        def bad(msg):
            msgs.append(msg)
            return None

        off = outer_check(pkt, raw, bad)
        if off is None:
            continue
        esp_raw = raw[off:]
        spi, seq_lo = struct.unpack_from("!II", esp_raw, 0)
        seq_hi = pkt.seq >> 32
        if spi != c.spi:
            bad("SPI 0x%08x, expected 0x%08x" % (spi, c.spi))
            continue
        if seq_lo != pkt.seq & 0xFFFFFFFF:
            bad("sequence %d, expected %d" % (seq_lo, pkt.seq & 0xFFFFFFFF))
            continue
        body = len(esp_raw) - 8 - c.iv_len - c.icv_len
        if body <= 0 or body % c.block:
            bad("ciphertext of %d bytes is not whole %d-byte blocks" % (body, c.block))
            continue
        if not c.aead and c.hash:
            signed = esp_raw[:-c.icv_len] + (struct.pack("!I", seq_hi) if c.esn else b"")
            want = hmac.new(c.auth_key, signed, c.hash).digest()[:c.icv_len]
            if not hmac.compare_digest(want, esp_raw[-c.icv_len:]):
                bad("HMAC ICV does not verify")
                continue
        # AEAD keys end with the 4-byte salt (RFC 4106 8.1, RFC 7634 2): scapy
        # splits it off itself.
        sa = SecurityAssociation(
            ESP, spi=c.spi, crypt_algo=c.scapy_encr,
            crypt_key=c.enc_key or None,
            auth_algo="NULL", esn_en=c.esn, esn=seq_hi)
        try:
            plain = sa.crypt_algo.decrypt(sa, ESP(esp_raw), sa.crypt_key, c.icv_len,
                                          esn_en=c.esn, esn=seq_hi)
        except IPSecIntegrityError:
            bad("AEAD tag does not verify (scapy)")
            continue
        except Exception as e:  # noqa: BLE001 - any decode error is a fault
            bad("scapy cannot decrypt: %r" % e)
            continue
        if bytes(plain.data) != pkt.inner:
            bad("inner packet differs (scapy): got %d bytes, expected %d" %
                (len(plain.data), len(pkt.inner)))
        want_nh = 4 if pkt.inner[0] >> 4 == 4 else 41
        if plain.nh != want_nh:
            bad("next header %d, expected %d" % (plain.nh, want_nh))
    return faults


def tshark_env(home):
    return dict(os.environ, HOME=home, XDG_CONFIG_HOME=home)


# The inner UDP ports esp_pcapgen uses (49152 + case, 50000 + packet) are
# decoded as plain data: a dissector that claims such a payload (RTCP, CPFI
# heuristics, ...) and throws on it aborts the ESP dissection before the ICV
# verdict is added.
TSHARK_INNER_AS_DATA = ["-d", "udp.port==49152-50100,data"]


def tshark_check(tshark, pcap, cases, packets):
    """Decode with tshark; returns {frame: [faults]} for tshark-decodable cases."""
    fields = ["frame.number", "frame.protocols", "esp.spi", "esp.sequence",
              "esp.decrypted_data", "esp.contained_data", "esp.icv_good", "esp.icv_bad"]
    cmd = [tshark, "-n", "-r", pcap] + TSHARK_INNER_AS_DATA + [
           "-o", "esp.enable_encryption_decode:TRUE",
           "-o", "esp.enable_authentication_check:TRUE"]
    for c in cases:
        if c.tshark_ok:
            cmd += ["-o", c.uat()]
    cmd += ["-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
            "-E", "aggregator=,"]
    for f in fields:
        cmd += ["-e", f]
    with tempfile.TemporaryDirectory() as home:
        res = subprocess.run(cmd, env=tshark_env(home), capture_output=True, text=True,
                             timeout=120)
    if res.returncode != 0:
        raise SystemExit("tshark failed (%d): %s" % (res.returncode, res.stderr))
    rows = {}
    for line in res.stdout.splitlines():
        v = dict(zip(fields, line.split("|")))
        rows[int(v["frame.number"])] = v

    faults = {}
    for pkt in packets:
        c = pkt.case
        if not c.tshark_ok:
            continue
        msgs = faults.setdefault(pkt.frame, [])
        v = rows.get(pkt.frame)
        if v is None:
            msgs.append("tshark printed no line for the frame")
            continue
        protos = v["frame.protocols"].split(":")
        if "esp" not in protos:
            msgs.append("tshark did not dissect ESP (%s)" % v["frame.protocols"])
            continue
        # ESP-in-UDP shows as udp:udpencap:esp (RFC 3948 on port 4500).
        if c.udp and protos[protos.index("esp") - 2:protos.index("esp")] != ["udp", "udpencap"]:
            msgs.append("tshark: ESP not inside UDP (%s)" % v["frame.protocols"])
        if v["esp.spi"] and int(v["esp.spi"], 16) != c.spi:
            msgs.append("tshark: SPI %s" % v["esp.spi"])
        if v["esp.sequence"] != str(pkt.seq & 0xFFFFFFFF):
            msgs.append("tshark: sequence %s, expected %d" % (v["esp.sequence"],
                                                             pkt.seq & 0xFFFFFFFF))
        if not v["esp.decrypted_data"]:
            msgs.append("tshark did not decrypt")
            continue
        dec = bytes.fromhex(v["esp.decrypted_data"].replace(":", ""))
        # The trailer is read here rather than from esp.pad_len: tshark 4.0
        # leaves that field out for some packets (seen with 1 byte of padding).
        padlen = dec[-2] if len(dec) >= 2 else 255
        if padlen + 2 > len(dec):
            msgs.append("tshark: pad length %d longer than the payload" % padlen)
            continue
        inner = dec[:len(dec) - padlen - 2]
        if inner != pkt.inner:
            msgs.append("inner packet differs (tshark): got %d bytes, expected %d" %
                        (len(inner), len(pkt.inner)))
        if v["esp.contained_data"] and \
                bytes.fromhex(v["esp.contained_data"].replace(":", "")) != pkt.inner:
            msgs.append("tshark: ESP contained data differs from the inner packet")
        # RFC 4303 2.4: default padding is 1, 2, 3, ...
        if dec[len(inner):len(dec) - 2] != bytes(range(1, padlen + 1)):
            msgs.append("padding bytes are not 1, 2, 3, ...")
        want_nh = 4 if pkt.inner[0] >> 4 == 4 else 41
        if dec[-1] != want_nh:
            msgs.append("tshark: next header %d, expected %d" % (dec[-1], want_nh))
        if c.esn:
            # tshark 4.0 has no ESN: its ICV leaves out the high 32 bits, so it
            # must come out wrong (which shows ours covers them).
            if v["esp.icv_bad"] != "1":
                msgs.append("tshark: ESN ICV matched the non-ESN computation")
        elif v["esp.icv_good"] != "1":
            msgs.append("tshark: ICV not good (good=%s bad=%s)" % (v["esp.icv_good"],
                                                                 v["esp.icv_bad"]))
    return faults


def seq_check(cases, packets):
    """Sequence numbers count up by one from the SA's first one (crossing 2^32)."""
    faults, nth = {}, {}
    for pkt in packets:
        c = pkt.case
        want = c.first_seq + nth.get(c.spi, 0)
        nth[c.spi] = nth.get(c.spi, 0) + 1
        if pkt.seq != want:
            faults.setdefault(pkt.frame, []).append("sequence %d, expected %d" % (pkt.seq, want))
    return faults


def tamper(packets, frames):
    """Flips a ciphertext byte in each case's 2nd packet and an ICV byte in its 3rd.

    Returns the new frames and {frame: which} for the tampered ones.
    """
    out, which, nth = list(frames), {}, {}
    for i, pkt in enumerate(packets):
        c = pkt.case
        k = nth.get(c.spi, 0)
        nth[c.spi] = k + 1
        raw = bytearray(frames[i])
        esp_off = (20 if c.family == 4 else 40) + (8 if c.udp else 0)
        if k == 1:
            # The first ciphertext byte: it lands in the inner IP header.
            raw[esp_off + 8 + c.iv_len] ^= 0x01
            which[pkt.frame] = "ciphertext"
        elif k == 2:
            raw[-1] ^= 0x80
            which[pkt.frame] = "icv"
        out[i] = bytes(raw)
    return out, which


def expected_faults(packets, which):
    """Frames each decoder must report bad in the tampered copy."""
    want_tshark, want_scapy = set(), set()
    for pkt in packets:
        w = which.get(pkt.frame)
        if not w:
            continue
        want_scapy.add(pkt.frame)
        # Without ESN support tshark sees a changed ICV only through the
        # ICV check, which for ESN SAs is expected to fail anyway.
        if pkt.case.tshark_ok and not (pkt.case.esn and w == "icv"):
            want_tshark.add(pkt.frame)
    return want_tshark, want_scapy


def bad_frames(faults):
    return {f for f, m in faults.items() if m}


def report(title, faults, packets, limit=20):
    n = 0
    for pkt in packets:
        for m in faults.get(pkt.frame, []):
            if n < limit:
                print("  %s: frame %d (%s, seq %d): %s" % (title, pkt.frame, pkt.case.name,
                                                           pkt.seq, m))
            n += 1
    if n > limit:
        print("  %s: ... %d more" % (title, n - limit))


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: esp_xcheck.py PCAPGEN TSHARK")
    pcapgen, tshark = sys.argv[1:]
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([pcapgen, tmp], check=True)
        cases, packets = read_manifest(os.path.join(tmp, "esp.manifest"))
        header, frames = read_pcap(os.path.join(tmp, "esp.pcap"))
        if len(frames) != len(packets) or not packets:
            raise SystemExit("pcap has %d frames, manifest %d packets" %
                             (len(frames), len(packets)))
        seq = seq_check(cases, packets)
        ts = tshark_check(tshark, os.path.join(tmp, "esp.pcap"), cases, packets)
        sc = scapy_check(packets, frames)
        for title, f in (("sequence", seq), ("tshark", ts), ("scapy", sc)):
            if bad_frames(f):
                ok = False
                print("FAIL: %s reports %d bad packets:" % (title, len(bad_frames(f))))
                report(title, f, packets)

        # Negative control: the same checks on a tampered copy must flag
        # exactly the tampered frames.
        tframes, which = tamper(packets, frames)
        tpcap = os.path.join(tmp, "tampered.pcap")
        write_pcap(tpcap, header, tframes)
        want_ts, want_sc = expected_faults(packets, which)
        got_ts = bad_frames(tshark_check(tshark, tpcap, cases, packets))
        got_sc = bad_frames(scapy_check(packets, tframes))
        for title, got, want in (("tshark", got_ts, want_ts), ("scapy", got_sc, want_sc)):
            if got != want:
                ok = False
                print("FAIL: negative control (%s): tampered frames not flagged %s, "
                      "clean frames flagged %s" % (title, sorted(want - got), sorted(got - want)))

        ts_cases = [c.name for c in cases if c.tshark_ok]
        sc_cases = [c.name for c in cases]
        print("esp_xcheck: %d packets in %d cases" % (len(packets), len(cases)))
        print("  tshark decrypted and checked: %s" % ", ".join(ts_cases))
        print("  scapy/hmac decrypted and checked: %s" % ", ".join(sc_cases))
        print("  negative control: tshark flagged %d/%d tampered frames, scapy %d/%d" %
              (len(got_ts & want_ts), len(want_ts), len(got_sc & want_sc), len(want_sc)))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
