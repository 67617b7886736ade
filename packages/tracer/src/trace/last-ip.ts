// Last-IP compression of the TIP-family packets (SDM: "IP compression"). Both the encoder and
// the decoder keep the last IP sent; a PSB resets it to zero.

/** Suppressed IP: the packet carries no address. */
export const IP_SUPPRESSED = 0;

export class LastIp {
  low = 0;
  high = 0;

  reset(): void {
    this.low = 0;
    this.high = 0;
  }

  /**
   * Encoder side: the smallest IPBytes that reconstructs (ipLow, ipHigh) from the last IP, after
   * which the last IP is updated. `minBytes` = 2 forces at least a 32-bit update.
   */
  compress(ipLow: number, ipHigh: number, minIpBytes = 1): number {
    let ipBytes: number;
    if (ipHigh === this.high && minIpBytes <= 1 && ipLow >>> 16 === this.low >>> 16) ipBytes = 1;
    else if (ipHigh === this.high) ipBytes = 2;
    else if ((ipHigh & 0xffff0000) === (this.high & 0xffff0000)) ipBytes = 4;
    else ipBytes = 6;
    this.low = ipLow >>> 0;
    this.high = ipHigh >>> 0;
    return ipBytes;
  }

  /**
   * Decoder side: applies a payload; returns false for a suppressed IP (the last IP stays), and
   * throws RangeError for reserved IPBytes values.
   */
  update(ipBytes: number, payloadLow: number, payloadHigh: number): boolean {
    switch (ipBytes) {
      case 0:
        return false;
      case 1:
        this.low = ((this.low & 0xffff0000) | (payloadLow & 0xffff)) >>> 0;
        return true;
      case 2:
        this.low = payloadLow >>> 0;
        return true;
      case 3:
        // Sign-extend bit 47.
        this.low = payloadLow >>> 0;
        this.high = (payloadHigh & 0x8000 ? (payloadHigh & 0xffff) | 0xffff0000 : payloadHigh & 0xffff) >>> 0;
        return true;
      case 4:
        this.low = payloadLow >>> 0;
        this.high = ((this.high & 0xffff0000) | (payloadHigh & 0xffff)) >>> 0;
        return true;
      case 6:
        this.low = payloadLow >>> 0;
        this.high = payloadHigh >>> 0;
        return true;
      default:
        throw new RangeError(`reserved IPBytes ${ipBytes}`);
    }
  }
}
