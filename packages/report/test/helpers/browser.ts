import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium, driven headless by playwright-core (the HTML reports' real-browser oracle).
 * Background networking is off: this machine has no network and Chromium would keep trying.
 */
export async function launchChromium(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return { browser, close: () => browser.close() };
}
