# SPDX-License-Identifier: BSD-3-Clause
"""IKEv1 interop (issue 5, section 2): vpngw against strongSwan's charon
(kernel-libipsec) in network namespaces, and vpngw against vpngw.

Cases, each with a fresh vpngw and a fresh charon (interop.py's lab):
- three suites (aes-sha1-modp1024 with ESP aes-sha1 and PFS modp1024, the
  product default; aes256-sha256-modp2048 with ESP aes256-sha256 and no
  PFS; 3des-md5-modp1024 with ESP 3des-md5) in main and aggressive mode,
  vpngw as initiator and as responder: the tunnel comes up on both sides
  with the algorithms asked for, both agree on the SPIs, ping (every reply
  counted) and iperf3 through it;
- two remote subnets: two IPsec SA pairs under one ISAKMP SA, a ping to
  each, vpngw as initiator and as responder;
- IPsec SAs (quick mode) rekeyed and the ISAKMP SA re-established every few
  seconds under iperf3 with no ping lost, driven once by strongSwan and once
  by vpngw (short lifetimes through the glue's test overrides);
- DPD: the peer killed (SIGKILL), vpngw declares it dead and removes the
  SAs; the peer back: the tunnel comes back;
- misconfigurations in main mode diagnosed, vpngw as initiator and as
  responder: psk_mismatch (the peer's messages do not decrypt),
  proposal_mismatch, ts_mismatch (INVALID_ID_INFORMATION);
- the rest of DESIGN.md's diagnosis table, each cause with its evidence
  and remedy: mode_mismatch (main against aggressive, both roles),
  id_mismatch (both roles), dh_group_mismatch naming both groups,
  pfs_mismatch (PFS on one side only, either side), ike_version_mismatch
  (strongSwan speaking IKEv2, both roles);
- FQDN, USER_FQDN and KEY_ID (text and binary) identities in main and
  aggressive mode; in aggressive mode the IDs' types and bytes are also
  read off the wire (tshark); a KEY_ID mismatch in aggressive mode, both
  roles (id_mismatch naming both KEY_IDs);
- a real NAT (nftables masquerade in the wan router): vpngw behind it
  initiating main mode (NAT-D, float to 4500, ESP in UDP, keepalives,
  traffic), and strongSwan behind it with the NAT's mapping changed under
  the tunnel (vpngw follows the new port, its ESP too);
- vpngw to vpngw over IKEv1 main mode and aggressive mode.

Usage: test_ikev1.py VPNGW [CASE-PREFIX...]   (root)
"""

import json
import re
import sys
import time

import interop
from interop import (CONN, FAST, SWAN_LAN, SWAN_LAN2, bring_up, check_spis_agree, gw_children,
                     spi_pairs, swan_conn, swan_secrets, traffic_across_rekeys, vpngw_to_vpngw)

# name, vpngw ike, vpngw ipsec, strongSwan proposals, ESP proposals, what
# strongSwan lists for the ISAKMP SA and (the start of) the IPsec SA.
SUITES = [
    ("aes-sha1-modp1024 esp aes-sha1 pfs modp1024",
     dict(encryption="aes", integrity="sha1", dh_group="group2"),
     dict(encryption="aes", integrity="sha1", pfs="group2"),
     "aes128-sha1-modp1024", "aes128-sha1-modp1024",
     "AES_CBC-128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024", "ESP:AES_CBC-128/HMAC_SHA1_96/MODP_1024"),
    ("aes256-sha256-modp2048 esp aes256-sha256 no pfs",
     dict(encryption="aes256", integrity="sha256", dh_group="group14"),
     dict(encryption="aes256", integrity="sha256", pfs="disabled"),
     "aes256-sha256-modp2048", "aes256-sha256",
     "AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048", "ESP:AES_CBC-256/HMAC_SHA2_256_128"),
    ("3des-md5-modp1024 esp 3des-md5",
     dict(encryption="3des", integrity="md5", dh_group="group2"),
     dict(encryption="3des", integrity="md5", pfs="disabled"),
     "3des-md5-modp1024", "3des-md5",
     "3DES_CBC/HMAC_MD5_96/PRF_HMAC_MD5/MODP_1024", "ESP:3DES_CBC/HMAC_MD5_96"),
]

DEFAULT = SUITES[0]
DEFAULT_SWAN = dict(proposals=DEFAULT[3], esp_proposals=DEFAULT[4])

# strongSwan answers aggressive mode with PSK only with this opt-in (INTEROP.md).
SWAN_OPTS = {"i_dont_care_about_security_and_use_aggressive_mode_psk": True,
             "make_before_break": True}

# vpngw's own lifetimes in seconds (control/ike_glue.c test overrides: the
# config refuses lifetimes under 60 s).
REKEY_BY_VPNGW = {"VPNGW_IKE_TEST_IPSEC_LIFETIME_S": "5", "VPNGW_IKE_TEST_IKE_LIFETIME_S": "12"}


def gw_conn(initiator, mode="main", ike=None, ipsec=None, **kw):
    ike = dict(ike or DEFAULT[1], mode=mode)
    return interop.gw_conn("ikev1", initiator, ike, ipsec or DEFAULT[2], **kw)


def v1_conn(mode="main", **kw):
    conn_opts = dict(kw.pop("conn_opts", None) or {})
    conn_opts["aggressive"] = mode == "aggressive"
    return swan_conn(version=1, conn_opts=conn_opts, **kw)


def up(c, initiator, gw_tail, swan, **kw):
    return bring_up(c, initiator, gw_tail, swan, opts=SWAN_OPTS, **kw)


def suite_case(suite, mode, initiator):
    name, ike, ipsec, sw_ike, sw_esp, sw_ike_name, sw_esp_name = suite

    def fn(c):
        st, cs = up(c, initiator, gw_conn(initiator, mode, ike, ipsec),
                    v1_conn(mode, proposals=sw_ike, esp_proposals=sw_esp, start=not initiator))
        ch = cs[-1]
        sa = [s for s in c.charon.list_sas()["vpn"] if s["state"] == "ESTABLISHED"][0]
        c.check(sa["version"] == 1, "strongSwan: an IKEv1 SA (IKEv%d)" % sa["version"])
        c.check(any(sw_ike_name in l for l in sa["lines"]),
                "strongSwan's ISAKMP SA uses %s" % sw_ike_name, "\n".join(sa["lines"][:5]))
        c.check(ch["proto"] == sw_esp_name, "strongSwan's IPsec SA uses %s (%s)" % (
            sw_esp_name, ch["proto"]))
        c.check(ch["mode"] == "TUNNEL-in-UDP", "ESP-in-UDP as kernel-libipsec wants (%s)" % ch["mode"])
        enc = [(x.get("encryption"), x.get("integrity")) for x in gw_children(st)]
        c.check((ipsec["encryption"], ipsec["integrity"]) in enc,
                "vpnctl status: child %s/%s (%s)" % (ipsec["encryption"], ipsec["integrity"], enc))
        check_spis_agree(c, st, ch)
        c.check_ping()
        c.check_iperf(seconds=2)
        after = c.charon.children("vpn", "net")
        c.check(after and after[-1]["packets_in"] > 10 and after[-1]["packets_out"] > 10,
                "strongSwan counted ESP both ways (in %s, out %s packets)" % (
                    after[-1]["packets_in"] if after else "-",
                    after[-1]["packets_out"] if after else "-"))
    return fn


def two_remote_case(initiator):
    """Two remote subnets: one IPsec SA pair per subnet pair, both under one
    ISAKMP SA (issue 5), a ping to each."""
    def fn(c):
        if initiator:
            # strongSwan responds to each quick mode with the matching pair.
            swan = v1_conn(start=False, local_ts=("10.2.0.0/24", "10.3.0.0/24"), **DEFAULT_SWAN)
        else:
            # strongSwan as IKEv1 initiator proposes one pair per child.
            swan = v1_conn(start=True, local_ts=("10.2.0.0/24",), **DEFAULT_SWAN)
            net2 = dict(swan["vpn"]["children"]["net"], local_ts=["10.3.0.0/24"])
            swan["vpn"]["children"]["net2"] = net2
        st, cs = up(c, initiator, gw_conn(initiator, remote=("10.2.0.0/24", "10.3.0.0/24")), swan,
                    children=2, swan_children=2)
        sas = [s for s in c.charon.list_sas().get("vpn", []) if s["state"] == "ESTABLISHED"]
        c.check(len(sas) == 1 and len(sas[0]["children"]) == 2,
                "strongSwan: one ISAKMP SA with two IPsec SAs (%d ISAKMP SAs, children %s)" % (
                    len(sas), [len(s["children"]) for s in sas]), c.charon.list_sas_text())
        remotes = sorted(x["local_ts"][0] for x in cs if x["local_ts"])
        c.check(remotes == ["10.2.0.0/24", "10.3.0.0/24"],
                "one IPsec SA per remote subnet (%s)" % remotes)
        c.check(len(gw_children(st)) == 2, "vpnctl status: two children (%d)" % len(gw_children(st)),
                json.dumps(st, indent=1))
        for ch in cs:
            check_spis_agree(c, st, ch, "%s: " % ch["local_ts"])
        c.check_ping(dst=SWAN_LAN, count=5)
        c.check_ping(dst=SWAN_LAN2, count=5)
    return fn


def case_rekey_by_swan(c):
    """strongSwan rekeys the IPsec SAs (quick mode) every 3 s and
    re-establishes the ISAKMP SA every 8 s under traffic; vpngw responds."""
    short = {"rekey_time": "3s", "life_time": "60s", "rand_time": "0s"}
    up(c, True, gw_conn(True, ike=dict(DEFAULT[1], lifetime=60), ipsec=dict(DEFAULT[2], lifetime=60)),
       v1_conn(child_opts=short, conn_opts={"rekey_time": "8s", "over_time": "60s", "rand_time": "0s"},
               **DEFAULT_SWAN))
    traffic_across_rekeys(c)
    check_rekeyed_state(c)


def case_rekey_by_vpngw(c):
    """vpngw rekeys (IPsec SA lifetime 5 s, ISAKMP SA 12 s through the glue's
    test overrides) under traffic; strongSwan responds."""
    up(c, True, gw_conn(True), v1_conn(**DEFAULT_SWAN), env=REKEY_BY_VPNGW)
    traffic_across_rekeys(c)
    check_rekeyed_state(c)


def check_rekeyed_state(c):
    """IKEv1: strongSwan keeps a rekeyed IPsec SA until it expires (or its
    peer deletes it); vpngw must hold exactly the SA pairs strongSwan holds."""
    time.sleep(1)
    swan_pairs = {(x["spi_out"], x["spi_in"]) for sa in c.charon.list_sas().get("vpn", [])
                  for x in sa["children"] if x["state"] in ("INSTALLED", "REKEYED", "REKEYING")}
    gw_pairs = spi_pairs(c.status(CONN))
    c.check(gw_pairs == swan_pairs and len(c.sas()) == 2 * len(gw_pairs),
            "vpngw holds the IPsec SAs strongSwan holds (%d pairs / %d)" % (
                len(gw_pairs), len(swan_pairs)),
            "vpngw only: %s\nstrongSwan only: %s\n%s" % (
                sorted(gw_pairs - swan_pairs), sorted(swan_pairs - gw_pairs),
                c.charon.list_sas_text()))
    # strongSwan rekeys every few seconds: at one instant all its SAs may be
    # mid-rekey (REKEYING), so wait a little for an installed one.
    cur = c.charon.wait_child("vpn", "net", timeout=5)
    if c.check(bool(cur), "strongSwan has an installed IPsec SA", c.charon.list_sas_text()):
        check_spis_agree(c, c.status(CONN), cur[-1], "after the rekeys: ")
    c.check_ping(count=5, what="ping after the rekeys")


def case_dpd(c):
    """DPD (RFC 3706): SIGKILL charon, vpngw's R-U-THERE go unanswered, the
    peer is declared dead and the SAs removed; charon back: tunnel back."""
    swan = v1_conn(**DEFAULT_SWAN)
    up(c, True, gw_conn(True, dpd=True), swan, env=FAST)
    c.check_ping(count=5)
    c.charon.kill()
    t0 = time.time()
    st = c.wait_status(CONN, lambda s: s.get("cause") == "peer_not_responding" and
                       not gw_children(s), timeout=40)
    c.check(st is not None and st.get("cause") == "peer_not_responding" and not gw_children(st),
            "dead peer detected in %.0fs: cause peer_not_responding, no children" % (
                time.time() - t0), json.dumps(st, indent=1))
    sas = c.sas()
    c.check(not sas, "its SAs removed from the data plane (%d in vpnctl sa)" % len(sas),
            json.dumps(sas)[:1500])
    c.start_charon(swan, swan_secrets(), SWAN_OPTS)
    st = c.wait_up(CONN, timeout=40)
    c.check(st is not None and st.get("state") == "phase2 succeeded",
            "peer back: tunnel up again (%s)" % (st or {}).get("state"), json.dumps(st, indent=1))
    c.check_ping(count=5, what="ping after the peer came back")


def case_psk_mismatch(c):
    """Main mode with different PSKs: no AUTHENTICATION_FAILED in IKEv1; the
    peer's encrypted messages do not decrypt (INTEROP.md) -> psk_mismatch."""
    c.start_gateway(gw_conn(True), env=FAST)
    c.start_charon(v1_conn(**DEFAULT_SWAN), swan_secrets(psk="not-the-same-psk"), SWAN_OPTS)
    st = c.wait_cause(CONN, "psk_mismatch", timeout=40)
    c.check(st is not None and st.get("cause") == "psk_mismatch",
            "vpnctl status cause psk_mismatch (got %s)" % (st or {}).get("cause"),
            json.dumps(st, indent=1))
    if st and st.get("cause") == "psk_mismatch":
        c.check(st.get("state") == "phase1 failed", "state phase1 failed (%s)" % st.get("state"))
        c.check(bool(st.get("evidence")) and bool(st.get("remedy")),
                "evidence and remedy given: %r / %r" % (st.get("evidence"), st.get("remedy")))
    c.check(c.charon.wait_log(r"decryption failed", timeout=5) is not None,
            "strongSwan's log: decryption failed", c.charon.log_tail(20))



# ---- the diagnosis matrix (DESIGN.md "Connection status and diagnosis") ----

G2, G14 = interop.DH_NAME["group2"], interop.DH_NAME["group14"]
SWAN_FQDN = interop.SWAN_FQDN


def misconfig_case(cause, state, gw_kw, swan_kw, swan_log=None, initiator=True, mode="main",
                   swan_mode=None, secrets=None, evidence_re=None, after=None):
    """vpngw (initiator or responder, mode) against strongSwan configured
    differently (swan_kw over the defaults; swan_mode: its mode)."""
    def fn(c):
        swan = v1_conn(swan_mode or mode, start=not initiator, **dict(DEFAULT_SWAN, **swan_kw))
        interop.misconfig(c, gw_conn(initiator, mode, **gw_kw), swan, cause, state, swan_log,
                          secrets, SWAN_OPTS, evidence_re)
        if after:
            after(c)
    return fn


def no_sa(c):
    c.check(not c.sas(), "vpngw installed no SA (%d)" % len(c.sas()))


def version_case(initiator):
    """strongSwan runs IKEv2 (and initiates) against vpngw's IKEv1
    connection: vpngw sees IKEv2 from the customer gateway of an IKEv1
    connection. initiator: vpngw also initiates (main mode) and strongSwan
    answers it NO_PROPOSAL_CHOSEN (it has no IKEv1 config): the peer spoke
    IKEv2, so the diagnosis stays ike_version_mismatch."""
    def fn(c):
        swan = swan_conn(version=2, start=True, **DEFAULT_SWAN)
        interop.misconfig(c, gw_conn(initiator), swan, "ike_version_mismatch", "phase1 failed",
                          r"retransmit 1 of request with message ID 0",
                          evidence_re=[r"ikev1", r"ikev2"])
        interop.check_version_settled(c)
        interop.check_no_tunnel(c)
    return fn


def case_mode_initiator(c):
    """vpngw main mode initiator, strongSwan aggressive only: strongSwan
    takes MM1..MM4 and answers MM5 with AUTHENTICATION_FAILED ("none allows
    pre-shared key authentication using Main Mode"), the same notify it
    sends for an ID it does not accept: vpngw cannot tell the two apart. It
    says so: peer_rejected, with both candidates (our ID, the mode) in the
    evidence and the remedy."""
    causes = ("mode_mismatch", "id_mismatch", "peer_rejected")
    c.start_gateway(gw_conn(True), env=FAST)
    c.start_charon(v1_conn("aggressive", **DEFAULT_SWAN), None, SWAN_OPTS)
    st = c.wait_status(CONN, lambda s: s.get("cause") in causes, 15)
    cause = (st or {}).get("cause")
    if c.check(cause in causes, "vpnctl status cause one of %s (got %s)" % (causes, cause),
               json.dumps(st, indent=1)):
        if cause == "peer_rejected":
            ev, rem = st.get("evidence") or "", st.get("remedy") or ""
            c.check(st.get("state") == "phase1 failed", "state phase1 failed (%s)" % st.get("state"))
            c.check(re.search(r"AUTHENTICATION_FAILED", ev) and re.search(r"\bID\b", ev) and
                    re.search(r"\bmain mode\b", ev), "the evidence names both candidates: %r" % ev)
            c.check(re.search(r"local_id", rem) and re.search(r"\bmode\b", rem),
                    "the remedy names our ID and the mode: %r" % rem)
        else:
            interop.check_diagnosis(c, st, cause, "phase1 failed", [r"AUTHENTICATION_FAILED"])
        c.check(re.search(r"\bmode\b", st.get("remedy") or "") is not None,
                "the remedy names the mode: %r" % st.get("remedy"))
    c.check(c.charon.wait_log(r"none allows pre-shared key authentication using Main Mode",
                              timeout=3) is not None,
            "strongSwan's log: main mode refused", c.charon.log_tail(20))
    no_sa(c)


def case_pfs_initiator(c):
    """vpngw initiates quick mode with PFS group2, strongSwan has no PFS:
    strongSwan answers NO_PROPOSAL_CHOSEN, which alone does not say whether
    the ESP algorithms or the PFS differ; the evidence must name PFS."""
    c.start_gateway(gw_conn(True), env=FAST)
    c.start_charon(v1_conn(proposals=DEFAULT[3], esp_proposals="aes128-sha1"), None, SWAN_OPTS)
    st = c.wait_status(CONN, lambda s: s.get("cause") in ("pfs_mismatch", "proposal_mismatch"), 15)
    cause = (st or {}).get("cause")
    if c.check(cause in ("pfs_mismatch", "proposal_mismatch"),
               "vpnctl status cause pfs_mismatch or proposal_mismatch (got %s)" % cause,
               json.dumps(st, indent=1)):
        interop.check_diagnosis(c, st, cause, "phase2 failed", [r"pfs"])
    c.check(c.charon.wait_log(r"no matching proposal found, sending NO_PROPOSAL_CHOSEN",
                              timeout=3) is not None,
            "strongSwan's log: NO_PROPOSAL_CHOSEN to the quick mode", c.charon.log_tail(20))
    no_sa(c)


# Identities of each kind: (vpngw's, strongSwan's); KEY_ID is what
# aggressive-mode peers such as Cisco's often send.
IDS = {
    "fqdn": (interop.fqdn_id(interop.GW_FQDN), interop.fqdn_id(SWAN_FQDN)),
    "user_fqdn": (interop.user_fqdn_id("vpngw@example.com"),
                  interop.user_fqdn_id("swan@example.net")),
    "key_id": (interop.keyid_text("hq-vpngw"), interop.keyid_hex("00c0ffee01")),
    "key_id_swapped": (interop.keyid_hex("00c0ffee02"), interop.keyid_text("branch-17")),
}


def id_up_case(kind, mode, initiator):
    """Identities of one kind on both sides bring the tunnel up; strongSwan
    lists both as configured. (Both sides compare an ID's type and bytes: a
    tunnel up means each sent the type the other expects.)"""
    gw_id, swan_id = IDS[kind]

    def fn(c):
        cap = None
        if mode == "aggressive":
            cap = interop.Capture(c.lab, c.lab.ns["wan"], c.lab.veth[1],
                                  "udp port 500 or udp port 4500", "aggressive-ids")
        interop.ids_up(c, initiator,
                       gw_conn(initiator, mode, dict(DEFAULT[1], local_id=gw_id.gw,
                                                     remote_id=swan_id.gw)),
                       v1_conn(mode, start=not initiator, local_id=swan_id.swan,
                               remote_id=gw_id.swan, **DEFAULT_SWAN),
                       gw_id, swan_id, opts=SWAN_OPTS, what="ISAKMP SA")
        if cap is not None:
            cap.stop()
            check_clear_ids(c, cap, gw_id, swan_id)
    return fn


def check_clear_ids(c, cap, gw_id, swan_id):
    """Aggressive mode carries both phase 1 IDs in the clear (AM1, AM2): on
    the wire each side sent its own with the configured type and bytes."""
    rows = cap.fields("isakmp.exchangetype == 4 && isakmp.id.type", "ip.src", "isakmp.id.type",
                      "isakmp.id.data.key_id", "isakmp.id.data.fqdn", "isakmp.id.data.user_fqdn")
    seen = {}
    for row in rows:
        src, typ, data = row[0], row[1], next((x for x in row[2:] if x), "")
        seen.setdefault(src, set()).add((typ, data))
    for who, addr, ident in (("vpngw", interop.GW_PUB, gw_id),
                             ("strongSwan", interop.SWAN_PUB, swan_id)):
        data = ident.data.hex() if ident.id_type == 11 else ident.data.decode()
        want = (str(ident.id_type), data)
        got = {(t, d.replace(":", "") if t == "11" else d) for t, d in seen.get(addr, ())}
        c.check(got == {want}, "on the wire: %s's aggressive-mode ID is type %s, %s (tshark: %s)"
                % (who, ident.id_type, data, sorted(got)), "\n".join("\t".join(r) for r in rows))


def keyid_mismatch_case(initiator):
    """Aggressive mode: strongSwan sends KEY_ID 0x00c0ffee03, vpngw's
    remote_id is KEY_ID 0x00c0ffee01: id_mismatch naming both KEY_IDs as
    vpngw prints them (keyid:0xHEX); no SA."""
    want, sent = interop.keyid_hex("00c0ffee01"), interop.keyid_hex("00c0ffee03")
    gw_id = interop.keyid_text("hq-vpngw")

    def fn(c):
        swan = v1_conn("aggressive", start=not initiator, local_id=sent.swan, remote_id=gw_id.swan,
                       **DEFAULT_SWAN)
        interop.misconfig(c, gw_conn(initiator, "aggressive",
                                     dict(DEFAULT[1], local_id=gw_id.gw, remote_id=want.gw)),
                          swan, "id_mismatch", "phase1 failed",
                          secrets=swan_secrets(ids=(gw_id.swan, sent.swan)), opts=SWAN_OPTS,
                          evidence_re=[re.escape(want.gw_shows) + r"\b",
                                       re.escape(sent.gw_shows) + r"\b"])
        no_sa(c)
    return fn


# ---- a real NAT in the wan router (nftables, interop.py) ----


def case_nat_gw_behind(c):
    """vpngw behind the wan router's masquerade initiating main mode: NAT-D
    seen by both, float to 4500, ESP in UDP, NAT keepalives from vpngw on
    the wire, ping and iperf3 (interop.nat_gw_behind)."""
    interop.nat_gw_behind(c, gw_conn(True), v1_conn(conn_opts={"remote_addrs": "%any"},
                                                    **DEFAULT_SWAN), opts=SWAN_OPTS,
                          nat_log=r"NAT detected: we are behind a NAT")


def case_nat_swan_behind(c):
    """strongSwan behind the NAT initiating main mode, the mapping changed
    under the tunnel: vpngw follows the new port on strongSwan's next
    authenticated message (a DPD R-U-THERE every 2 s) and its SAs follow
    (interop.nat_swan_behind)."""
    interop.nat_swan_behind(
        c, lambda nat: gw_conn(False, ike=dict(DEFAULT[1], remote_id=interop.SWAN_PUB),
                               peer_addr=nat),
        v1_conn(start=True, conn_opts={"dpd_delay": "2s"}, **DEFAULT_SWAN), opts=SWAN_OPTS,
        nat_log=r"NAT detected:(?! we are).* the peer is behind a NAT")


CASES = []
for _s in SUITES:
    for _mode in ("main", "aggressive"):
        for _init in (True, False):
            CASES.append(("%s %s %s" % ("initiator" if _init else "responder", _mode, _s[0]),
                          suite_case(_s, _mode, _init)))
CASES += [
    ("initiator two remote subnets: two SA pairs under one ISAKMP SA", two_remote_case(True)),
    ("responder two remote subnets: two SA pairs under one ISAKMP SA", two_remote_case(False)),
    ("rekey by strongSwan: quick mode and ISAKMP SAs under iperf3, no ping lost", case_rekey_by_swan),
    ("rekey by vpngw: quick mode and ISAKMP SAs under iperf3, no ping lost", case_rekey_by_vpngw),
    ("dpd: peer killed detected dead, SAs removed; peer back: tunnel back", case_dpd),
    ("misconfig main mode psk -> psk_mismatch", case_psk_mismatch),
    ("misconfig main mode proposal -> proposal_mismatch", lambda c: interop.misconfig(
        c, gw_conn(True), v1_conn(proposals="aes256-sha256-modp2048", esp_proposals=DEFAULT[4]),
        "proposal_mismatch", "phase1 failed", swan_log=r"no proposal found", opts=SWAN_OPTS)),
    ("misconfig subnets -> ts_mismatch", lambda c: interop.misconfig(
        c, gw_conn(True), v1_conn(remote_ts=("10.7.0.0/24",), **DEFAULT_SWAN),
        "ts_mismatch", "phase2 failed", swan_log=r"no matching CHILD_SA config found",
        opts=SWAN_OPTS)),
    ("misconfig main mode psk, vpngw responder -> psk_mismatch",
     misconfig_case("psk_mismatch", "phase1 failed", {}, {}, r"decryption failed|retransmit",
                    initiator=False, secrets=swan_secrets(psk="not-the-same-psk"))),
    ("misconfig main mode proposal, vpngw responder -> proposal_mismatch naming encryption",
     misconfig_case("proposal_mismatch", "phase1 failed", {},
                    {"proposals": "aes256-sha256-modp2048"}, r"received NO_PROPOSAL_CHOSEN",
                    initiator=False, evidence_re=r"encr")),
    ("misconfig subnets, vpngw responder -> ts_mismatch",
     misconfig_case("ts_mismatch", "phase2 failed", {}, {"local_ts": ("10.7.0.0/24",)},
                    r"received INVALID_ID_INFORMATION", initiator=False)),
    ("misconfig mode: vpngw main initiator, strongSwan aggressive -> peer_rejected naming mode and ID",
     case_mode_initiator),
    ("misconfig mode: vpngw main responder, strongSwan aggressive -> mode_mismatch",
     misconfig_case("mode_mismatch", "phase1 failed", {}, {}, swan_mode="aggressive",
                    initiator=False, evidence_re=[r"main", r"aggressive"], after=no_sa)),
    ("misconfig id, vpngw responder -> id_mismatch",
     misconfig_case("id_mismatch", "phase1 failed", {}, {"local_id": SWAN_FQDN},
                    initiator=False, secrets=swan_secrets(ids=(interop.GW_PUB, SWAN_FQDN)),
                    evidence_re=[re.escape(SWAN_FQDN), re.escape(interop.SWAN_PUB)], after=no_sa)),
    ("misconfig id, vpngw initiator -> id_mismatch",
     misconfig_case("id_mismatch", "phase1 failed", {}, {"local_id": SWAN_FQDN},
                    secrets=swan_secrets(ids=(interop.GW_PUB, SWAN_FQDN)),
                    evidence_re=[re.escape(SWAN_FQDN), re.escape(interop.SWAN_PUB)], after=no_sa)),
    ("misconfig dh group, vpngw responder -> dh_group_mismatch naming both groups",
     misconfig_case("dh_group_mismatch", "phase1 failed",
                    {"ike": dict(DEFAULT[1], dh_group="group14")}, {},
                    r"received NO_PROPOSAL_CHOSEN", initiator=False, evidence_re=[G2, G14])),
    ("misconfig pfs: vpngw pfs group2, strongSwan no pfs, vpngw responder -> pfs_mismatch",
     misconfig_case("pfs_mismatch", "phase2 failed", {}, {"esp_proposals": "aes128-sha1"},
                    initiator=False, evidence_re=[r"pfs", G2])),
    ("misconfig pfs: vpngw pfs group2, strongSwan no pfs, vpngw initiator -> pfs named",
     case_pfs_initiator),
    ("misconfig pfs: vpngw pfs disabled, strongSwan pfs modp1024, vpngw responder -> pfs_mismatch",
     misconfig_case("pfs_mismatch", "phase2 failed",
                    {"ipsec": dict(DEFAULT[2], pfs="disabled")}, {}, initiator=False,
                    evidence_re=[r"pfs", G2])),
    ("misconfig version: strongSwan IKEv2, vpngw IKEv1 responder -> ike_version_mismatch",
     version_case(False)),
    ("misconfig version: strongSwan IKEv2, vpngw IKEv1 initiator -> ike_version_mismatch",
     version_case(True)),
    ("initiator main FQDN identities", id_up_case("fqdn", "main", True)),
    ("responder aggressive FQDN identities", id_up_case("fqdn", "aggressive", False)),
    ("responder main USER_FQDN identities", id_up_case("user_fqdn", "main", False)),
    ("initiator aggressive USER_FQDN identities", id_up_case("user_fqdn", "aggressive", True)),
    ("initiator aggressive KEY_ID identities (text and hex)",
     id_up_case("key_id", "aggressive", True)),
    ("responder aggressive KEY_ID identities (hex and text)",
     id_up_case("key_id_swapped", "aggressive", False)),
    ("misconfig aggressive KEY_ID, vpngw responder -> id_mismatch naming both",
     keyid_mismatch_case(False)),
    ("misconfig aggressive KEY_ID, vpngw initiator -> id_mismatch naming both",
     keyid_mismatch_case(True)),
    ("nat: vpngw behind a NAT initiating main mode: NAT-T, keepalives, traffic",
     case_nat_gw_behind),
    ("nat: strongSwan behind a NAT initiating main mode, mapping changes: vpngw follows",
     case_nat_swan_behind),
    ("vpngw to vpngw aggressive", lambda c: vpngw_to_vpngw(
        c, dict(version="ikev1", mode="aggressive", encryption="aes256", integrity="sha256",
                dh_group="group14"),
        dict(encryption="aes", integrity="sha1", pfs="group14"))),
    ("vpngw to vpngw", lambda c: vpngw_to_vpngw(
        c, dict(version="ikev1", mode="main", encryption="aes", integrity="sha1", dh_group="group2"),
        dict(encryption="aes", integrity="sha1", pfs="group2"))),
]

if __name__ == "__main__":
    sys.exit(interop.main_loop(CASES, sys.argv[1:]))
