"""An injected EIP-1193 provider that forwards to anvil's unlocked accounts, so wallet.js runs unchanged."""

import json

_SCRIPT = r"""
(() => {
  const RPC_URL = __RPC_URL__;
  const ACCOUNT = __ACCOUNT__;
  const NODE_CHAIN_ID = 31337;
  // Like a real wallet, the chosen chain and the connection survive page loads (per tab).
  let chainId = Number(sessionStorage.getItem("testWallet.chain") || __CHAIN_ID__);
  let connected = sessionStorage.getItem("testWallet.connected") === "1";
  const listeners = {};
  const emit = (event, value) => (listeners[event] || []).forEach((fn) => fn(value));
  let id = 0;
  async function node(method, params) {
    const response = await fetch(RPC_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params: params || [] }),
    });
    const reply = await response.json();
    if (reply.error) {
      const err = new Error(reply.error.message);
      err.code = reply.error.code;
      throw err;
    }
    return reply.result;
  }
  const utf8ToHex = (text) =>
    "0x" + Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("");
  window.__testWallet = {
    rejectNext: false,
    calls: [],
    setChain(next) {
      chainId = next;
      sessionStorage.setItem("testWallet.chain", String(next));
      emit("chainChanged", "0x" + next.toString(16));
    },
  };
  window.ethereum = {
    isTestWallet: true,
    on(event, fn) { (listeners[event] = listeners[event] || []).push(fn); },
    removeListener(event, fn) { listeners[event] = (listeners[event] || []).filter((f) => f !== fn); },
    async request({ method, params }) {
      window.__testWallet.calls.push(method);
      const interactive = ["eth_requestAccounts", "personal_sign", "eth_signTypedData_v4",
                           "eth_sendTransaction", "wallet_switchEthereumChain"];
      if (interactive.includes(method) && window.__testWallet.rejectNext) {
        window.__testWallet.rejectNext = false;
        const err = new Error("User rejected the request.");
        err.code = 4001;
        throw err;
      }
      switch (method) {
        case "eth_requestAccounts":
          connected = true;
          sessionStorage.setItem("testWallet.connected", "1");
          emit("accountsChanged", [ACCOUNT]);
          return [ACCOUNT.toLowerCase()];
        case "eth_accounts":
          return connected ? [ACCOUNT.toLowerCase()] : [];
        case "eth_chainId":
          return "0x" + chainId.toString(16);
        case "wallet_switchEthereumChain": {
          const target = parseInt(params[0].chainId, 16);
          if (target !== NODE_CHAIN_ID) {
            const err = new Error("Unrecognized chain ID.");
            err.code = 4902;
            throw err;
          }
          window.__testWallet.setChain(target);
          return null;
        }
        case "personal_sign": {
          const [message, address] = params;
          const data = /^0x[0-9a-fA-F]*$/.test(message) ? message : utf8ToHex(message);
          return node("personal_sign", [data, address]);
        }
        case "eth_signTypedData_v4":
          return node("eth_signTypedData_v4", params);
        case "eth_sendTransaction":
          if (chainId !== NODE_CHAIN_ID) throw Object.assign(new Error("Wrong network."), { code: 4100 });
          return node("eth_sendTransaction", params);
        default:
          return node(method, params);
      }
    },
  };
})();
"""


def provider_script(*, rpc_url: str, account: str, chain_id: int) -> str:
    return (
        _SCRIPT.replace("__RPC_URL__", json.dumps(rpc_url))
        .replace("__ACCOUNT__", json.dumps(account))
        .replace("__CHAIN_ID__", str(int(chain_id)))
    )
