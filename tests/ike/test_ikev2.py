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
- the rest of DESIGN.md's diagnosis table, each cause with its evidence
  (naming the parameter) and remedy: dh_group_mismatch naming both groups;
  INVALID_KE_PAYLOAD followed to the tunnel, also when the answer comes
  twice; pfs_mismatch at a CHILD_SA rekey by either side; id_mismatch in
  both roles (as initiator vpngw tells strongSwan, which keeps no SA);
  ike_version_mismatch (strongSwan speaking IKEv1) in both
  roles; unknown_peer (strongSwan from a second address: counted, logged,
  no tunnel);
- on-demand: no IKE until the LAN sends, then vpngw initiates (ACQUIRE);
- FQDN, USER_FQDN and KEY_ID (text and binary) identities in both roles;
  a KEY_ID mismatch in both roles (id_mismatch naming both KEY_IDs);
- a real NAT (nftables masquerade in the wan router): vpngw behind it
  (NAT-T, keepalives, traffic), and strongSwan behind it with the NAT's
  mapping changed under the tunnel (vpngw follows the new port);
- vpngw to vpngw (tests/ns/topology.py with connections): ping, iperf3.

Usage: test_ikev2.py VPNGW [CASE-PREFIX...]   (root)
"""

import json
import re
import sys
import time

import interop
from interop import (CONN, FAST, LAN_HOST, LAN_HOST2, SWAN_LAN, SWAN_LAN2, bring_up, check_spis_agree,
                     check_no_tunnel, gw_children, ike_stats, spi_hex, swan_conn, swan_secrets,
                     traffic_across_rekeys, vpngw_to_vpngw, wait_new_child)

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



# ---- the diagnosis matrix (DESIGN.md "Connection status and diagnosis") ----

G2, G14, G19 = interop.DH_NAME["group2"], interop.DH_NAME["group14"], interop.DH_NAME["group19"]
SWAN_FQDN, NAT_TABLE = interop.SWAN_FQDN, interop.NAT_TABLE


def case_invalid_ke_followed(c):
    """vpngw initiates with KE group19 first but also offers group14;
    strongSwan wants MODP_2048 only: it answers INVALID_KE_PAYLOAD naming
    it, vpngw retries with group14 (RFC 7296 1.2), the tunnel comes up."""
    st, cs = bring_up(c, True, gw_conn(True, dict(DEFAULT_IKE, dh_group=["group19", "group14"])),
                      swan_conn(**DEFAULT_SWAN))
    c.check(c.charon.wait_log(r"DH group ECP_256 unacceptable, requesting MODP_2048",
                              timeout=2) is not None,
            "strongSwan's log: it sent INVALID_KE_PAYLOAD asking for MODP_2048",
            c.charon.log_tail(20))
    sa = [s for s in c.charon.list_sas()["vpn"] if s["state"] == "ESTABLISHED"][0]
    c.check(any("MODP_2048" in l for l in sa["lines"]), "strongSwan's IKE_SA uses MODP_2048",
            "\n".join(sa["lines"][:5]))
    c.check(st.get("cause") is None, "vpnctl status: no cause left over (%s)" % st.get("cause"))
    check_spis_agree(c, st, cs[-1])
    c.check_ping(count=5)


def case_invalid_ke_duplicated(c):
    """As above, but the network duplicates strongSwan's INVALID_KE_PAYLOAD
    answer (nft dup in the wan router), as an answer to a retransmit also
    does: the second copy arrives after vpngw already retried with
    MODP_2048. It asks for the group in use: stale, not a failure (RFC 7296
    2.1: the retry is the request now outstanding); the tunnel comes up at
    the first attempt."""
    c.start_gateway(gw_conn(False, dict(DEFAULT_IKE, dh_group=["group19", "group14"])))
    # strongSwan's INVALID_KE_PAYLOAD answer: a 38-byte IKE message.
    interop.nft(c.lab.ns["wan"], "table ip %s\ndelete table ip %s\ntable ip %s {\n"
                " chain forward_dup {\n  type filter hook forward priority 0;\n"
                "  ip saddr %s udp sport 500 udp length 46 dup to %s device \"%s\"\n }\n}\n" % (
                    NAT_TABLE, NAT_TABLE, NAT_TABLE, interop.SWAN_PUB, interop.GW_PUB,
                    c.gw.tap_pub))
    try:
        c.start_charon(swan_conn(**DEFAULT_SWAN))
        c.gw.api("up", {"name": CONN})
        st = c.wait_up(CONN, timeout=8)
        c.check(c.charon.count_log(r"DH group ECP_256 unacceptable") >= 1,
                "strongSwan answered INVALID_KE_PAYLOAD", c.charon.log_tail(20))
        c.check(st is not None and st.get("state") == "phase2 succeeded",
                "tunnel up (%s)" % (st or {}).get("state"), json.dumps(st, indent=1))
        fails = (st or {}).get("failures") or {}
        c.check(not fails.get("dh_group_mismatch") and (st or {}).get("ike_sa_up") == 1,
                "up at the first attempt: no dh_group_mismatch on the way (failures %s, "
                "ike_sa_up %s)" % (fails, (st or {}).get("ike_sa_up")),
                "\n".join(l for l in c.gw.read_log().splitlines() if CONN in l))
    finally:
        interop.nat_clear(c)


def pfs_case(by_swan):
    """PFS on one side only, or another group, shows at a CHILD_SA rekey
    (the first child comes from IKE_AUTH without KE). by_swan: strongSwan
    rekeys with PFS MODP_2048, vpngw has pfs disabled: vpngw answers
    NO_PROPOSAL_CHOSEN naming the group and the first child stays up. Else
    vpngw rekeys (5 s test lifetime) with PFS group14 and strongSwan wants
    MODP_1024: the cause is recorded at the soft lifetime; at the hard one
    the first child must go (RFC 7296 2.8: deleted, the peer told) and the
    status say phase2 failed, not a tunnel that carries nothing."""
    def fn(c):
        if by_swan:
            gw = gw_conn(True, ipsec=dict(DEFAULT_IPSEC, pfs="disabled"))
            swan = swan_conn(proposals=DEFAULT_SWAN["proposals"],
                             esp_proposals="aes128gcm16-modp2048")
            env = None
        else:
            gw = gw_conn(True, ipsec=dict(DEFAULT_IPSEC, pfs="group14"))
            swan = swan_conn(proposals=DEFAULT_SWAN["proposals"],
                             esp_proposals="aes128gcm16-modp1024")
            env = REKEY_BY_VPNGW
        st, cs = bring_up(c, True, gw, swan, env=env)
        t_up = time.time()
        if by_swan:
            c.charon.rekey(child="net")
        else:
            c.check_ping(count=5, what="ping through the first child")
        st = c.wait_cause(CONN, "pfs_mismatch", timeout=15)
        interop.check_diagnosis(c, st, "pfs_mismatch", "phase2 succeeded", [r"pfs", G14])
        if by_swan:
            c.check(c.charon.wait_log(r"received NO_PROPOSAL_CHOSEN notify", timeout=3) is not None,
                    "strongSwan's log: NO_PROPOSAL_CHOSEN to its rekey", c.charon.log_tail(20))
            c.check(len(gw_children(st)) >= 1 and c.charon.children("vpn", "net"),
                    "the first CHILD_SA stays up on both sides", c.charon.list_sas_text())
            c.check_ping(count=5, what="ping through the first child")
            return
        c.check(c.charon.wait_log(r"no acceptable proposal found", timeout=3) is not None,
                "strongSwan's log: no acceptable proposal for vpngw's rekey", c.charon.log_tail(20))
        hard = float(REKEY_BY_VPNGW["VPNGW_IKE_TEST_IPSEC_LIFETIME_S"])
        st = c.wait_status(CONN, lambda s: s.get("state") == "phase2 failed",
                           timeout=max(0.0, t_up + hard + 5 - time.time()))
        if c.check(st is not None and st.get("state") == "phase2 failed" and not gw_children(st),
                   "after the first child's hard lifetime: phase2 failed, no child listed (%s, %d "
                   "children)" % ((st or {}).get("state"), len(gw_children(st))),
                   json.dumps(st, indent=1) + "\nvpnctl sa: " + json.dumps(
                       [(x["spi"], x["direction"], x["state"]) for x in c.sas()])):
            interop.check_diagnosis(c, st, "pfs_mismatch", "phase2 failed", [r"pfs", G14])
        c.check(c.charon.wait_log(r"received DELETE for ESP CHILD_SA", timeout=2) is not None,
                "strongSwan's log: vpngw deleted the expired CHILD_SA", c.charon.log_tail(20))
    return fn


def id_case(initiator):
    """strongSwan's own ID (FQDN) is not vpngw's remote_id (its address):
    vpngw names both IDs and installs nothing; as responder it refuses the
    IKE_AUTH (AUTHENTICATION_FAILED), as initiator it refuses the IDr."""
    def fn(c):
        swan = swan_conn(start=not initiator, local_id=SWAN_FQDN, **DEFAULT_SWAN)
        interop.misconfig(c, gw_conn(initiator), swan, "id_mismatch", "phase1 failed",
                          r"received AUTHENTICATION_FAILED notify error" if not initiator else None,
                          secrets=swan_secrets(ids=(interop.GW_PUB, SWAN_FQDN)),
                          evidence_re=[re.escape(SWAN_FQDN), re.escape(interop.SWAN_PUB)])
        c.check(not c.sas(), "vpngw installed no SA (%d)" % len(c.sas()))
        if initiator:
            # strongSwan (responder) had established both SAs when vpngw
            # read its IDr; AUTHENTICATION_FAILED + Delete must remove them.
            interop.check_ike_sas_deleted(c)
    return fn


def version_case(initiator):
    """strongSwan runs IKEv1 against vpngw's IKEv2 connection. strongSwan
    initiates (main mode): vpngw sees IKEv1 from the customer gateway of an
    IKEv2 connection. initiator: vpngw also initiates (IKEv2) and strongSwan
    answers it NO_PROPOSAL_CHOSEN (it has no IKEv2 config): the peer spoke
    IKEv1, so the diagnosis stays ike_version_mismatch."""
    def fn(c):
        swan = swan_conn(version=1, start=True, **DEFAULT_SWAN)
        interop.misconfig(c, gw_conn(initiator), swan, "ike_version_mismatch", "phase1 failed",
                          r"sending retransmit 1 of request message ID 0",
                          evidence_re=[r"ikev1", r"ikev2"])
        interop.check_version_settled(c)
        check_no_tunnel(c)
    return fn


def case_unknown_peer(c):
    """strongSwan talks from 198.51.100.3, an address no customer gateway
    has, with the ID vpngw's connection expects from 198.51.100.2: vpngw
    refuses it, counts it (stats, metrics), logs it and tells the
    connection (unknown_peer naming both addresses); strongSwan gets no
    tunnel."""
    other = "198.51.100.3"
    ns = c.lab.ns["swan"]
    interop.sh("ip", "addr", "add", other + "/24", "dev", c.lab.veth[0], ns=ns)
    try:
        swan = swan_conn(start=True, conn_opts={"local_addrs": other}, **DEFAULT_SWAN)
        interop.misconfig(c, gw_conn(False), swan, "unknown_peer", "phase1 failed",
                          r"received AUTHENTICATION_FAILED notify error",
                          evidence_re=[re.escape(other), re.escape(interop.SWAN_PUB)])
        n = (ike_stats(c).get("ikev2") or {}).get("unknown_peer", 0)
        c.check(n >= 1, "vpnctl stats: ikev2.unknown_peer %d" % n, json.dumps(ike_stats(c)))
        m = re.search(r'^vpngw_ike_unknown_peer_total\{[^}]*version="ikev2"[^}]*\}\s+(\d+)',
                      c.gw.metrics(), re.M)
        c.check(m is not None and int(m.group(1)) >= 1,
                "metrics: vpngw_ike_unknown_peer_total{version=\"ikev2\"} %s" % (m and m.group(1)))
        log = c.gw.read_log()
        c.check(re.search(r"%s.*unknown_peer" % re.escape(other), log) is not None,
                "vpngw's log names the address (unknown_peer)", log[-1500:])
        check_no_tunnel(c)
        c.check(not c.sas(), "vpngw installed no SA (%d)" % len(c.sas()))
    finally:
        interop.sh("ip", "addr", "del", other + "/24", "dev", c.lab.veth[0], ns=ns, check=False)


def case_acquire(c):
    """effect_immediately: false and a peer that does not initiate: no IKE
    until the LAN sends; the first ping makes vpngw initiate (ACQUIRE),
    the tunnel is up within seconds, later pings pass."""
    c.start_gateway(gw_conn(False))
    c.start_charon(swan_conn(**DEFAULT_SWAN))
    time.sleep(2)
    st = ike_stats(c)
    tx = (st.get("ikev2") or {}).get("tx", 0)
    c.check(tx == 0 and c.charon.count_log(r"received packet") == 0,
            "no IKE before traffic (vpngw ikev2.tx %d, strongSwan received %d)" % (
                tx, c.charon.count_log(r"received packet")), json.dumps(st))
    state = (c.status(CONN) or {}).get("state")
    c.check(state == "down", "vpnctl status: down before traffic (%s)" % state)
    t0 = time.time()
    interop.ping(c.lab.ns["lanh"], SWAN_LAN, count=1, wait=1)
    st = c.wait_up(CONN, timeout=10)
    dt = time.time() - t0
    c.require(st is not None and st.get("state") == "phase2 succeeded",
              "tunnel up %.1fs after the first ping" % dt, json.dumps(st, indent=1))
    c.check(dt < 5, "within 5 s of the first ping (%.1fs)" % dt)
    c.check(c.charon.wait_log(r"%s is initiating an IKE_SA" % re.escape(interop.GW_PUB), timeout=2)
            is not None, "strongSwan's log: vpngw initiated the IKE_SA", c.charon.log_tail(20))
    sa = [s for s in c.charon.list_sas().get("vpn", []) if s["state"] == "ESTABLISHED"]
    c.check(sa and re.search(r"_i [0-9a-f]+_r\*", sa[0]["lines"][0]) is not None,
            "strongSwan is the IKE responder (%s)" % (sa[0]["lines"][0] if sa else "no SA"))
    c.check_ping(count=10, what="later pings")


# Identities of each kind: (vpngw's, strongSwan's).
IDS = {
    "fqdn": (interop.fqdn_id(interop.GW_FQDN), interop.fqdn_id(SWAN_FQDN)),
    "user_fqdn": (interop.user_fqdn_id("vpngw@example.com"),
                  interop.user_fqdn_id("swan@example.net")),
    # One text and one binary KEY_ID in each case, each side's the other way
    # round in the other role.
    "key_id": (interop.keyid_text("hq-vpngw"), interop.keyid_hex("00c0ffee01")),
    "key_id_swapped": (interop.keyid_hex("00c0ffee02"), interop.keyid_text("branch-17")),
}


def id_up_case(kind, initiator):
    """Identities of one kind on both sides bring the tunnel up; strongSwan
    lists both as configured."""
    gw_id, swan_id = IDS[kind]

    def fn(c):
        interop.ids_up(c, initiator,
                       gw_conn(initiator,
                               dict(DEFAULT_IKE, local_id=gw_id.gw, remote_id=swan_id.gw)),
                       swan_conn(start=not initiator, local_id=swan_id.swan, remote_id=gw_id.swan,
                                 **DEFAULT_SWAN), gw_id, swan_id)
    return fn


def keyid_mismatch_case(initiator):
    """strongSwan sends KEY_ID branch-18, vpngw's remote_id is KEY_ID
    branch-17: id_mismatch, the evidence naming both as vpngw prints them."""
    want, sent = interop.keyid_text("branch-17"), interop.keyid_text("branch-18")
    gw_id = interop.keyid_hex("00c0ffee02")

    def fn(c):
        swan = swan_conn(start=not initiator, local_id=sent.swan, remote_id=gw_id.swan,
                         **DEFAULT_SWAN)
        interop.misconfig(c, gw_conn(initiator, dict(DEFAULT_IKE, local_id=gw_id.gw,
                                                     remote_id=want.gw)), swan,
                          "id_mismatch", "phase1 failed",
                          r"received AUTHENTICATION_FAILED notify error" if not initiator else None,
                          secrets=swan_secrets(ids=(gw_id.swan, sent.swan)),
                          evidence_re=[re.escape(want.gw_shows) + r"\b",
                                       re.escape(sent.gw_shows) + r"\b"])
        c.check(not c.sas(), "vpngw installed no SA (%d)" % len(c.sas()))
        if initiator:
            interop.check_ike_sas_deleted(c)
    return fn


# ---- a real NAT in the wan router (nftables, interop.py) ----


def case_nat_gw_behind(c):
    """vpngw behind the wan router's masquerade initiating: NAT-T,
    keepalives, traffic (interop.nat_gw_behind)."""
    interop.nat_gw_behind(c, gw_conn(True),
                          swan_conn(conn_opts={"remote_addrs": "%any"}, **DEFAULT_SWAN))


def case_nat_swan_behind(c):
    """strongSwan behind the NAT initiating, the mapping changed under the
    tunnel: vpngw follows the new port (RFC 7296 2.23) on strongSwan's next
    authenticated message (interop.nat_swan_behind)."""
    interop.nat_swan_behind(
        c, lambda nat: gw_conn(False, dict(DEFAULT_IKE, remote_id=interop.SWAN_PUB), peer_addr=nat),
        swan_conn(start=True, conn_opts={"dpd_delay": "2s"}, **DEFAULT_SWAN),
        moved_log=r"peer moved from %(nat)s:%(p0)d to %(nat)s:%(p1)d")


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
    ("misconfig dh group, vpngw responder -> dh_group_mismatch naming both groups",
     misconfig_case("dh_group_mismatch", "phase1 failed", {},
                    {"proposals": "aes128-sha256-modp1024"},
                    r"received NO_PROPOSAL_CHOSEN notify error", initiator=False,
                    evidence_re=[G2, G14])),
    ("dh group: vpngw's first KE refused, INVALID_KE_PAYLOAD followed, tunnel up",
     case_invalid_ke_followed),
    ("dh group: a duplicated INVALID_KE_PAYLOAD is stale, tunnel up at once",
     case_invalid_ke_duplicated),
    ("misconfig pfs: strongSwan rekeys with PFS, vpngw pfs disabled -> pfs_mismatch",
     pfs_case(True)),
    ("misconfig pfs: vpngw rekeys with group14, strongSwan wants modp1024 -> pfs_mismatch",
     pfs_case(False)),
    ("misconfig id, vpngw responder -> id_mismatch", id_case(False)),
    ("misconfig id, vpngw initiator -> id_mismatch", id_case(True)),
    ("misconfig version: strongSwan IKEv1, vpngw IKEv2 responder -> ike_version_mismatch",
     version_case(False)),
    ("misconfig version: strongSwan IKEv1, vpngw IKEv2 initiator -> ike_version_mismatch",
     version_case(True)),
    ("misconfig peer address -> unknown_peer counted, logged, no tunnel", case_unknown_peer),
    ("acquire: no IKE until traffic, then vpngw initiates", case_acquire),
    ("initiator FQDN identities", id_up_case("fqdn", True)),
    ("responder FQDN identities", id_up_case("fqdn", False)),
    ("initiator USER_FQDN identities", id_up_case("user_fqdn", True)),
    ("responder USER_FQDN identities", id_up_case("user_fqdn", False)),
    ("initiator KEY_ID identities (text and hex)", id_up_case("key_id", True)),
    ("responder KEY_ID identities (hex and text)", id_up_case("key_id_swapped", False)),
    ("misconfig KEY_ID, vpngw responder -> id_mismatch naming both", keyid_mismatch_case(False)),
    ("misconfig KEY_ID, vpngw initiator -> id_mismatch naming both", keyid_mismatch_case(True)),
    ("nat: vpngw behind a NAT initiating: NAT-T, keepalives, traffic", case_nat_gw_behind),
    ("nat: strongSwan behind a NAT initiating, mapping changes: vpngw follows",
     case_nat_swan_behind),
    ("vpngw to vpngw", lambda c: vpngw_to_vpngw(
        c, dict(version="ikev2", encryption="aes256", integrity="sha256", dh_group="group14"),
        dict(encryption="aes-gcm-128", pfs="group14"))),
]

if __name__ == "__main__":
    sys.exit(interop.main_loop(CASES, sys.argv[1:]))
