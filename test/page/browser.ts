// Debian's Chromium, driven by playwright-core (which brings no browser of its own).
import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM_PATH = '/usr/bin/chromium'

// Headless and quiet: no first-run work and no background traffic to Google, so any request the
// page makes is one the summary caused.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-quic',
  '--disable-component-update',
  '--disable-sync'
]

/** A desktop browser window a little wider than the summary box, as on github.com. */
export const SUMMARY_VIEWPORT = { width: 1280, height: 900 } as const

/** Launches Chromium, failing with what to install when it is not there. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} not found: install Debian's chromium package ` + '(apt-get install -y --no-install-recommends chromium, as .ci/run does).'
    )
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
}
