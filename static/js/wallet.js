// wallet.js — a small module over EIP-1193 (window.ethereum): connect, sign in, sign typed data,
// send server-prepared transactions and wait for receipts. Every failure becomes a WalletError
// whose message a person can act on.

export class WalletError extends Error {
  constructor(message, { code = null, cause = null } = {}) {
    super(message);
    this.name = "WalletError";
    this.code = code;
    this.cause = cause;
  }
}

const USER_REJECTED = 4001;
const UNRECOGNIZED_CHAIN = 4902;

function provider() {
  const eth = window.ethereum;
  if (!eth || typeof eth.request !== "function") {
    throw new WalletError("No wallet found. Install a browser wallet (for example MetaMask) and reload the page.", { code: "no_wallet" });
  }
  return eth;
}

export function hasWallet() {
  return Boolean(window.ethereum && typeof window.ethereum.request === "function");
}

async function request(method, params) {
  try {
    return await provider().request(params === undefined ? { method } : { method, params });
  } catch (err) {
    if (err instanceof WalletError) throw err;
    if (err && err.code === USER_REJECTED) {
      throw new WalletError("You cancelled the request in your wallet.", { code: "rejected", cause: err });
    }
    const reason = (err && (err.message || err.reason)) || String(err);
    throw new WalletError(`Your wallet could not do this: ${reason}`, { code: err && err.code, cause: err });
  }
}

export async function connect() {
  const accounts = await request("eth_requestAccounts");
  if (!accounts || accounts.length === 0) {
    throw new WalletError("Your wallet shared no account. Unlock it and try again.", { code: "no_account" });
  }
  return accounts[0];
}

export async function currentAccount() {
  if (!hasWallet()) return null;
  const accounts = await request("eth_accounts");
  return accounts && accounts.length ? accounts[0] : null;
}

export async function chainId() {
  return parseInt(await request("eth_chainId"), 16);
}

export async function switchChain(targetChainId) {
  const hex = "0x" + Number(targetChainId).toString(16);
  try {
    await request("wallet_switchEthereumChain", [{ chainId: hex }]);
  } catch (err) {
    if (err.cause && err.cause.code === UNRECOGNIZED_CHAIN) {
      throw new WalletError(`Your wallet does not know chain ${targetChainId}. Add it in your wallet first.`, { code: "unknown_chain", cause: err });
    }
    throw err;
  }
}

function csrfToken() {
  const headers = document.body.getAttribute("hx-headers");
  try { return JSON.parse(headers)["X-CSRFToken"]; } catch { return ""; }
}

export async function postJSON(url, body) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {}),
    });
  } catch (err) {
    throw new WalletError("The server could not be reached. Check your connection and try again.", { code: "network", cause: err });
  }
  if (response.status === 204) return null;
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok) {
    const message = (data && data.error) || `The server refused the request (HTTP ${response.status}).`;
    throw new WalletError(message, { code: "server", cause: data });
  }
  return data;
}

// Sign-In with Ethereum: the server writes the EIP-4361 text, the wallet signs it, the server checks it.
export async function signIn(address) {
  const { message } = await postJSON("/api/auth/nonce", { address });
  const signature = await request("personal_sign", [message, address]);
  return postJSON("/api/auth/login", { message, signature });
}

export async function signOut() {
  return postJSON("/api/auth/logout", {});
}

export async function signTypedData(address, typedData) {
  const payload = typeof typedData === "string" ? typedData : JSON.stringify(typedData);
  return request("eth_signTypedData_v4", [address, payload]);
}

// tx: {to, data, value?, gas?} exactly as the server prepared it; returns the transaction hash.
export async function sendTransaction(from, tx) {
  const params = { from, to: tx.to, data: tx.data };
  if (tx.value !== undefined) params.value = tx.value;
  if (tx.gas !== undefined) params.gas = tx.gas;
  return request("eth_sendTransaction", [params]);
}

export async function waitForReceipt(txHash, { timeoutMs = 120000, intervalMs = 1000, onTick = null } = {}) {
  const started = Date.now();
  for (;;) {
    const receipt = await request("eth_getTransactionReceipt", [txHash]);
    if (receipt) {
      if (receipt.status !== "0x1") {
        throw new WalletError("The transaction was included but reverted on chain.", { code: "reverted", cause: receipt });
      }
      return receipt;
    }
    if (Date.now() - started > timeoutMs) {
      throw new WalletError("The transaction is still pending. It may confirm later; check your wallet.", { code: "timeout" });
    }
    if (onTick) onTick(Date.now() - started);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export function onChainChanged(callback) {
  if (hasWallet() && typeof window.ethereum.on === "function") {
    window.ethereum.on("chainChanged", (hex) => callback(parseInt(hex, 16)));
  }
}

export function onAccountsChanged(callback) {
  if (hasWallet() && typeof window.ethereum.on === "function") {
    window.ethereum.on("accountsChanged", callback);
  }
}
