// site.js — wires the header's wallet controls (connect, sign in, wrong-chain warning, log out) to wallet.js.
import * as wallet from "./wallet.js";

const body = document.body;
const expectedChainId = Number(body.dataset.chainId);
const el = (id) => document.getElementById(id);

function say(text, { error = false } = {}) {
  const box = el("wallet-message");
  if (!box) return;
  box.textContent = text || "";
  box.hidden = !text;
  box.classList.toggle("error", error);
}

async function checkChain() {
  const warning = el("wrong-chain");
  if (!warning || !wallet.hasWallet()) return true;
  const current = await wallet.chainId();
  const wrong = current !== expectedChainId;
  warning.hidden = !wrong;
  return !wrong;
}

async function busy(button, label, work) {
  const original = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try {
    await work();
  } catch (err) {
    say(err instanceof wallet.WalletError ? err.message : `Something went wrong: ${err}`, { error: true });
  } finally {
    button.disabled = false;
    button.textContent = original;
  }
}

function wire() {
  const connectButton = el("connect-wallet");
  if (connectButton) {
    connectButton.addEventListener("click", () => busy(connectButton, "Waiting for wallet…", async () => {
      say("");
      const address = await wallet.connect();
      if (!(await checkChain())) {
        say("Switch your wallet to the right network, then connect again.", { error: true });
        return;
      }
      say("Sign the message in your wallet to sign in…");
      await wallet.signIn(address);
      say("Signed in.");
      window.location.reload();
    }));
  }
  const logoutButton = el("logout");
  if (logoutButton) {
    logoutButton.addEventListener("click", () => busy(logoutButton, "Logging out…", async () => {
      await wallet.signOut();
      window.location.reload();
    }));
  }
  const switchButton = el("switch-chain");
  if (switchButton) {
    switchButton.addEventListener("click", () => busy(switchButton, "Switching…", async () => {
      await wallet.switchChain(expectedChainId);
      await checkChain();
      say("");
    }));
  }
  wallet.onChainChanged(() => { checkChain().catch(() => {}); });
  if (wallet.hasWallet()) checkChain().catch(() => {});
}

wire();
