package org.glmmaas.worker.models;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress bar with size, rate and ETA. On a terminal it redraws one line; otherwise (logs, CI)
 * it prints a line at every 10 % so a long download is never silent.
 */
public final class ConsoleProgress implements ModelDownloader.Progress {

  private final PrintStream out;
  private final boolean terminal;
  private int lastDecile = -1;

  public ConsoleProgress(PrintStream out, boolean terminal) {
    this.out = out;
    this.terminal = terminal;
  }

  @Override
  public void update(long done, long total, double bytesPerSecond) {
    String line = render(done, total, bytesPerSecond);
    if (terminal) {
      out.print("\r" + line);
      if (total > 0 && done >= total) {
        out.println();
      }
      out.flush();
      return;
    }
    int decile = total > 0 ? (int) (done * 10 / total) : (int) (done >> 30);
    if (decile != lastDecile) {
      lastDecile = decile;
      out.println(line);
    }
  }

  @Override
  public void message(String line) {
    out.println(line);
  }

  static String render(long done, long total, double rate) {
    String rateText = ModelDownloader.Progress.human((long) rate) + "/s";
    if (total <= 0) {
      return String.format(Locale.ROOT, "%s  %s", ModelDownloader.Progress.human(done), rateText);
    }
    int width = 30;
    double frac = Math.min(1.0, (double) done / total);
    int filled = (int) (frac * width);
    String bar =
        "=".repeat(filled)
            + (filled < width ? ">" : "")
            + " ".repeat(Math.max(0, width - filled - 1));
    long etaS = rate > 0 ? (long) ((total - done) / rate) : -1;
    String eta = etaS < 0 ? "--:--" : String.format(Locale.ROOT, "%d:%02d", etaS / 60, etaS % 60);
    return String.format(
        Locale.ROOT,
        "[%s] %3d%%  %s / %s  %s  ETA %s",
        bar,
        (int) (frac * 100),
        ModelDownloader.Progress.human(done),
        ModelDownloader.Progress.human(total),
        rateText,
        eta);
  }
}
