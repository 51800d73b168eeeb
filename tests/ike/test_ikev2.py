# SPDX-License-Identifier: BSD-3-Clause
"""IKEv2 interop (issue 4, section 2): vpngw against strongSwan's charon
(kernel-libipsec) in network namespaces, and vpngw against vpngw.

Cases, each with a fresh vpngw and a fresh charon (interop.py's lab):
- four algorithm suites, vpngw as initiator and as responder: the tunnel
  comes up on both sides with the algorithms asked for, both agree on the
  SPIs, ping (every reply counted) and iperf3 through it; with PFS a CHILD_SA
  rekey by strongSwan carries the DH group;
- two local and two remote subnets in one CHILD_SA, a ping for each pair;
- CHILD_SA and IKE_SA rekeyed every few seconds under iperf3 with no ping
  lost: once driven by strongSwan (rekey_time), once by vpngw (lifetimes of
  a few seconds through the glue's VPNGW_IKE_TEST_*_LIFETIME_S overrides);
- the peer killed (SIGKILL): vpngw declares it dead and removes the SAs;
  the peer back: the tunnel comes back; the peer restarted and initiating
  again: vpngw takes the new IKE_SA;
- misconfigurations proving the diagnosis, vpngw initiating: psk_mismatch,
  proposal_mismatch, ts_mismatch, peer_not_responding; vpngw responding:
  psk_mismatch, proposal_mismatch (the evidence names the encryption),
  ts_mismatch;
- vpngw to vpngw (tests/ns/topology.py with connections): ping, iperf3.

Usage: test_ikev2.py VPNGW [CASE-PREFIX...]   (root)
"""

import json
import sys
import time

import interop
from interop import (CONN, FAST, LAN_HOST, LAN_HOST2, SWAN_LAN, SWAN_LAN2, bring_up, check_spis_agree,
                     gw_children, spi_hex, swan_conn, swan_secrets, traffic_across_rekeys,
                     vpngw_to_vpngw, wait_new_child)

# name, vpngw ike, vpngw ipsec, strongSwan proposals, ESP proposals, what
# strongSwan lists for the IKE SA and for the CHILD_SA, the PFS group name
# strongSwan adds to a rekeyed child (None: no PFS).
SUITES = [
    ("aes128-sha256-modp2048 esp aes128gcm16",
     dict(encryption="aes", integrity="sha256", dh_group="group14"),
     dict(encryption="aes-gcm-128", pfs="disabled"),
     "aes128-sha256-modp2048", "aes128gcm16",
     "AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048", "ESP:AES_GCM_16-128", None),
    ("aes256-sha1-modp1024 esp aes256-sha1 pfs modp1024",
     dict(encryption="aes256", integrity="sha1", dh_group="group2"),
     dict(encryption="aes256", integrity="sha1", pfs="group2"),
     "aes256-sha1-modp1024", "aes256-sha1-modp1024",
     "AES_CBC-256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024", "ESP:AES_CBC-256/HMAC_SHA1_96", "MODP_1024"),
    ("aes128gcm16-prfsha256-ecp256 esp aes128gcm16-ecp256",
     dict(encryption="aes-gcm-128", integrity="sha256", dh_group="group19"),
     dict(encryption="aes-gcm-128", pfs="group19"),
     "aes128gcm16-prfsha256-ecp256", "aes128gcm16-ecp256",
     "AES_GCM_16-128/PRF_HMAC_SHA2_256/ECP_256", "ESP:AES_GCM_16-128", "ECP_256"),
    ("aes256-sha384-x25519 esp chacha20poly1305",
     dict(encryption="aes256", integrity="sha384", dh_group="group31"),
     dict(encryption="chacha20-poly1305", pfs="disabled"),
     "aes256-sha384-x25519", "chacha20poly1305",
     "AES_CBC-256/HMAC_SHA2_384_192/PRF_HMAC_SHA2_384/CURVE_25519", "ESP:CHACHA20_POLY1305", None),
]

DEFAULT_IKE = SUITES[0][1]
DEFAULT_IPSEC = SUITES[0][2]
DEFAULT_SWAN = dict(proposals=SUITES[0][3], esp_proposals=SUITES[0][4])

# vpngw's own lifetimes in seconds (control/ike_glue.c test overrides: the
# config refuses lifetimes under 60 s).
REKEY_BY_VPNGW = {"VPNGW_IKE_TEST_IPSEC_LIFETIME_S": "5", "VPNGW_IKE_TEST_IKE_LIFETIME_S": "12"}


def gw_conn(initiator, ike=None, ipsec=None, **kw):
    return interop.gw_conn("ikev2", initiator, ike or DEFAULT_IKE, ipsec or DEFAULT_IPSEC, **kw)


def suite_case(suite, initiator):
    name, ike, ipsec, sw_ike, sw_esp, sw_ike_name, sw_esp_name, pfs = suite

    def fn(c):
        st, cs = bring_up(c, initiator, gw_conn(initiator, ike, ipsec),
                          swan_conn(proposals=sw_ike, esp_proposals=sw_esp, start=not initiator))
        ch = cs[-1]
        sa = [s for s in c.charon.list_sas()["vpn"] if s["state"] == "ESTABLISHED"][0]
        c.check(any(sw_ike_name in l for l in sa["lines"]),
                "strongSwan's IKE_SA uses %s" % sw_ike_name, "\n".join(sa["lines"][:5]))
        c.check(ch["proto"] == sw_esp_name, "strongSwan's CHILD_SA uses %s (%s)" % (
            sw_esp_name, ch["proto"]))
        c.check(ch["mode"] == "TUNNEL-in-UDP", "ESP-in-UDP as kernel-libipsec wants (%s)" % ch["mode"])
        enc = [x.get("encryption") for x in gw_children(st)]
        c.check(ipsec["encryption"] in enc, "vpnctl status: child encryption %s (%s)" % (
            ipsec["encryption"], enc))
        check_spis_agree(c, st, ch)
        c.check_ping()
        c.check_iperf(seconds=2)
        after = c.charon.children("vpn", "net")
        c.check(after and after[-1]["packets_in"] > 10 and after[-1]["packets_out"] > 10,
                "strongSwan counted ESP both ways (in %s, out %s packets)" % (
                    after[-1]["packets_in"] if after else "-", after[-1]["packets_out"] if after else "-"))
        if pfs:
            # The first child comes from IKE_AUTH, without KE: PFS shows in a rekey.
            c.charon.rekey(child="net")
            new = wait_new_child(c, {ch["spi_in"]})
            c.require(new, "strongSwan rekeyed the CHILD_SA", c.charon.list_sas_text())
            c.check(new[-1]["proto"].endswith("/" + pfs),
                    "rekeyed CHILD_SA with PFS %s (%s)" % (pfs, new[-1]["proto"]))
            st2 = c.wait_status(CONN, lambda s: any(
                spi_hex(x.get("spi_out")) == new[-1]["spi_in"] for x in gw_children(s)), 10)
            check_spis_agree(c, st2, new[-1], "after the rekey: ")
            c.check_ping(what="ping after the PFS rekey")
    return fn


def subnets_case(initiator):
    def fn(c):
        st, cs = bring_up(
            c, initiator,
            gw_conn(initiator, local=("10.1.0.0/25", "10.1.0.128/25"),
                    remote=("10.2.0.0/24", "10.3.0.0/24")),
            swan_conn(start=not initiator, local_ts=("10.2.0.0/24", "10.3.0.0/24"),
                      remote_ts=("10.1.0.0/25", "10.1.0.128/25"), **DEFAULT_SWAN))
        ch = cs[-1]
        installed = c.charon.children("vpn")
        c.check(len(installed) == 1, "one CHILD_SA on strongSwan (%d)" % len(installed),
                c.charon.list_sas_text())
        c.check(sorted(ch["local_ts"]) == ["10.2.0.0/24", "10.3.0.0/24"] and
                sorted(ch["remote_ts"]) == ["10.1.0.0/25", "10.1.0.128/25"],
                "its selectors are both subnet pairs (%s === %s)" % (ch["local_ts"], ch["remote_ts"]))
        check_spis_agree(c, st, ch)
        for src, dst in ((LAN_HOST, SWAN_LAN), (LAN_HOST2, SWAN_LAN2), (LAN_HOST, SWAN_LAN2),
                         (LAN_HOST2, SWAN_LAN)):
            c.check_ping(dst=dst, src=src, count=5)
        c.check_iperf(dst=SWAN_LAN2, seconds=2)
    return fn


def case_rekey_by_swan(c):
    """strongSwan rekeys the CHILD_SA every 3 s and the IKE_SA every 7 s
    (vpngw responds) under traffic; vpngw's own lifetimes are the config's
    shortest (60 s). (Rekey times apart: strongSwan 5.9.8 drops a CHILD_SA
    rekey job that fires while its IKE_SA is being rekeyed, "CHILD_SA ...
    not found for rekey", and never rekeys that child again.)"""
    short = {"rekey_time": "3s", "life_time": "60s", "rand_time": "0s"}
    bring_up(c, True,
             gw_conn(True, dict(DEFAULT_IKE, lifetime=60), dict(DEFAULT_IPSEC, lifetime=60)),
             swan_conn(child_opts=short, conn_opts={"rekey_time": "7s", "over_time": "60s",
                                                    "rand_time": "0s"}, **DEFAULT_SWAN))
    traffic_across_rekeys(c)
    check_rekeyed_state(c)


def case_rekey_by_vpngw(c):
    """vpngw rekeys (CHILD_SA lifetime 5 s, IKE_SA 12 s through the glue's
    test overrides, soft at 90% with jitter) under traffic; strongSwan
    responds."""
    bring_up(c, True, gw_conn(True), swan_conn(**DEFAULT_SWAN), env=REKEY_BY_VPNGW)
    traffic_across_rekeys(c)
    check_rekeyed_state(c)


def check_rekeyed_state(c):
    """Old SAs deleted, not piled up: at most the current pair and one being
    retired; vpngw and strongSwan on the same current SAs."""
    time.sleep(1)
    n = len(c.sas())
    c.check(n <= 4, "old SAs deleted: %d SAs in vpnctl sa" % n,
            json.dumps([(s["spi"], s["direction"], s["state"]) for s in c.sas()]))
    # strongSwan rekeys every few seconds: at one instant all its SAs may be
    # mid-rekey (REKEYING), so wait a little for an installed one.
    cur = c.charon.wait_child("vpn", "net", timeout=5)
    if c.check(bool(cur), "strongSwan has an installed CHILD_SA", c.charon.list_sas_text()):
        check_spis_agree(c, c.status(CONN), cur[-1], "after the rekeys: ")
    c.check_ping(count=5, what="ping after the rekeys")


def case_peer_killed(c):
    """SIGKILL charon: vpngw's liveness checks find it dead, the SAs go;
    charon back: vpngw (effect_immediately) brings the tunnel up again."""
    conns, secrets = swan_conn(**DEFAULT_SWAN), swan_secrets()
    bring_up(c, True, gw_conn(True, dpd=True), conns, env=FAST)
    c.check_ping(count=5)
    c.charon.kill()
    t0 = time.time()
    st = c.wait_status(CONN, lambda s: s.get("cause") == "peer_not_responding" and
                       not gw_children(s), timeout=40)
    c.check(st is not None and st.get("cause") == "peer_not_responding" and not gw_children(st),
            "dead peer detected in %.0fs: cause peer_not_responding, no children" % (time.time() - t0),
            json.dumps(st, indent=1))
    sas = c.sas()
    c.check(not sas, "its SAs removed from the data plane (%d in vpnctl sa)" % len(sas),
            json.dumps(sas)[:1500])
    c.start_charon(conns, secrets)
    st = c.wait_up(CONN, timeout=40)
    c.check(st is not None and st.get("state") == "phase2 succeeded",
            "peer back: tunnel up again (%s)" % (st or {}).get("state"), json.dumps(st, indent=1))
    c.check_ping(count=5, what="ping after the peer came back")


def case_peer_restarted(c):
    """charon killed and started again at once, initiating: vpngw (responder)
    takes the new IKE_SA and its child; traffic uses the new SAs."""
    conns = swan_conn(start=True, **DEFAULT_SWAN)
    bring_up(c, False, gw_conn(False), conns)
    c.check_ping(count=5)
    c.charon.kill()
    c.start_charon(conns)
    cs = c.charon.wait_child("vpn", "net", timeout=30)
    c.require(cs, "restarted strongSwan's CHILD_SA installed", c.charon.log_tail(30))
    st = c.wait_status(CONN, lambda s: any(
        spi_hex(x.get("spi_out")) == cs[-1]["spi_in"] for x in gw_children(s)), 20)
    check_spis_agree(c, st, cs[-1], "new SAs: ")
    c.check_ping(count=5, what="ping through the new SAs")
    time.sleep(1)
    n = len(c.sas())
    c.check(n <= 2, "the old SAs gone: %d SAs in vpnctl sa" % n,
            json.dumps([(s["spi"], s["direction"], s["state"]) for s in c.sas()]))


def misconfig_case(cause, state, gw_kw, swan_kw, swan_log, secrets=None, no_peer=False,
                   initiator=True, evidence_re=None):
    """vpngw (initiator or responder) against a peer configured differently."""
    def fn(c):
        swan = None if no_peer else swan_conn(start=not initiator, **dict(DEFAULT_SWAN, **swan_kw))
        interop.misconfig(c, gw_conn(initiator, **gw_kw), swan, cause, state, swan_log, secrets,
                          evidence_re=evidence_re)
    return fn


CASES = []
for _s in SUITES:
    CASES.append(("initiator " + _s[0], suite_case(_s, True)))
    CASES.append(("responder " + _s[0], suite_case(_s, False)))
CASES += [
    ("initiator two local x two remote subnets in one CHILD_SA", subnets_case(True)),
    ("responder two local x two remote subnets in one CHILD_SA", subnets_case(False)),
    ("rekey by strongSwan: CHILD_SA and IKE_SA under iperf3, no ping lost", case_rekey_by_swan),
    ("rekey by vpngw: CHILD_SA and IKE_SA under iperf3, no ping lost", case_rekey_by_vpngw),
    ("peer killed: detected dead, SAs removed; peer back: tunnel back", case_peer_killed),
    ("peer restarted and initiating: new IKE_SA taken", case_peer_restarted),
    ("misconfig psk -> psk_mismatch",
     misconfig_case("psk_mismatch", "phase1 failed", {}, {}, r"MAC mismatched",
                    secrets=swan_secrets(psk="not-the-same-psk"))),
    ("misconfig ike proposal -> proposal_mismatch",
     misconfig_case("proposal_mismatch", "phase1 failed", {}, {"proposals": "aes256-sha256-modp2048"},
                    r"no acceptable ENCRYPTION_ALGORITHM")),
    ("misconfig subnets -> ts_mismatch",
     misconfig_case("ts_mismatch", "phase2 failed", {}, {"remote_ts": ("10.7.0.0/24",)},
                    r"traffic selectors .* unacceptable")),
    ("misconfig peer down -> peer_not_responding",
     misconfig_case("peer_not_responding", "phase1 failed", {}, {}, None, no_peer=True)),
    ("misconfig psk, vpngw responder -> psk_mismatch",
     misconfig_case("psk_mismatch", "phase1 failed", {}, {},
                    r"received AUTHENTICATION_FAILED notify error",
                    secrets=swan_secrets(psk="not-the-same-psk"), initiator=False)),
    ("misconfig ike proposal, vpngw responder -> proposal_mismatch naming encryption",
     misconfig_case("proposal_mismatch", "phase1 failed", {}, {"proposals": "aes256-sha256-modp2048"},
                    r"received NO_PROPOSAL_CHOSEN notify error", initiator=False,
                    evidence_re=r"encr")),
    ("misconfig subnets, vpngw responder -> ts_mismatch",
     misconfig_case("ts_mismatch", "phase2 failed", {}, {"local_ts": ("10.7.0.0/24",)},
                    r"received TS_UNACCEPTABLE notify", initiator=False)),
    ("vpngw to vpngw", lambda c: vpngw_to_vpngw(
        c, dict(version="ikev2", encryption="aes256", integrity="sha256", dh_group="group14"),
        dict(encryption="aes-gcm-128", pfs="group14"))),
]

if __name__ == "__main__":
    sys.exit(interop.main_loop(CASES, sys.argv[1:]))
