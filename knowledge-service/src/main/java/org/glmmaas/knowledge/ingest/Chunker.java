package org.glmmaas.knowledge.ingest;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a document's text into chunks of about {@code targetTokens} ({@link TokenEstimate}).
 *
 * <p>Paragraphs (text separated by a blank line) are hard boundaries: a chunk never spans two, so a
 * short paragraph is one chunk holding exactly its text (whitespace collapsed), and a query equal
 * to it retrieves it first. A paragraph over the target is cut at sentence ends — {@code 。！？；} and
 * {@code . ! ? ;} followed by a space — packed greedily, and each next chunk starts with the last
 * sentences of the previous one worth up to {@code overlapTokens}. A single sentence over the
 * target is cut at whitespace or, for CJK text without spaces, between characters.
 */
public final class Chunker {

  private final int targetTokens;
  private final int overlapTokens;

  public Chunker(int targetTokens, int overlapTokens) {
    if (targetTokens < 1 || overlapTokens < 0 || overlapTokens >= targetTokens) {
      throw new IllegalArgumentException("need 0 <= overlap < target");
    }
    this.targetTokens = targetTokens;
    this.overlapTokens = overlapTokens;
  }

  /** A chunk's text and its estimated tokens. */
  public record Chunk(String text, int tokens) {}

  public List<Chunk> chunk(String text) {
    List<Chunk> out = new ArrayList<>();
    for (String paragraph : text.replace("\r\n", "\n").replace('\r', '\n').split("\n\\s*\n")) {
      String p = paragraph.strip().replaceAll("\\s+", " ");
      if (p.isEmpty()) {
        continue;
      }
      int tokens = TokenEstimate.of(p);
      if (tokens <= targetTokens) {
        out.add(new Chunk(p, tokens));
      } else {
        splitParagraph(p, out);
      }
    }
    return out;
  }

  private void splitParagraph(String p, List<Chunk> out) {
    List<String> pieces = new ArrayList<>();
    for (String sentence : sentences(p)) {
      if (TokenEstimate.of(sentence) <= targetTokens) {
        pieces.add(sentence);
      } else {
        pieces.addAll(hardSplit(sentence));
      }
    }
    List<String> current = new ArrayList<>();
    int currentTokens = 0;
    for (String piece : pieces) {
      int t = TokenEstimate.of(piece);
      if (!current.isEmpty() && currentTokens + t > targetTokens) {
        emit(current, out);
        List<String> carry = new ArrayList<>();
        int carried = 0;
        for (int i = current.size() - 1; i >= 0; i--) {
          int ct = TokenEstimate.of(current.get(i));
          if (carried + ct > overlapTokens || carried + ct + t > targetTokens) {
            break;
          }
          carry.addFirst(current.get(i));
          carried += ct;
        }
        current = carry;
        currentTokens = carried;
      }
      current.add(piece);
      currentTokens += t;
    }
    if (!current.isEmpty()) {
      emit(current, out);
    }
  }

  private static void emit(List<String> pieces, List<Chunk> out) {
    StringBuilder sb = new StringBuilder();
    for (String s : pieces) {
      if (!sb.isEmpty() && !isCjk(sb.codePointBefore(sb.length())) && !isCjk(s.codePointAt(0))) {
        sb.append(' ');
      }
      sb.append(s);
    }
    String text = sb.toString();
    out.add(new Chunk(text, TokenEstimate.of(text)));
  }

  /** Sentences with their closing punctuation; CJK ends need no following space. */
  static List<String> sentences(String p) {
    List<String> out = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < p.length(); i++) {
      char c = p.charAt(i);
      boolean end =
          c == '。'
              || c == '！'
              || c == '？'
              || c == '；'
              || ((c == '.' || c == '!' || c == '?' || c == ';')
                  && (i + 1 == p.length() || p.charAt(i + 1) == ' '));
      if (end) {
        // keep closing quotes/brackets with the sentence
        int j = i + 1;
        while (j < p.length() && "”’\"')）」』".indexOf(p.charAt(j)) >= 0) {
          j++;
        }
        String s = p.substring(start, j).strip();
        if (!s.isEmpty()) {
          out.add(s);
        }
        start = j;
        i = j - 1;
      }
    }
    String rest = p.substring(start).strip();
    if (!rest.isEmpty()) {
      out.add(rest);
    }
    return out;
  }

  private List<String> hardSplit(String sentence) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    int i = 0;
    while (i < sentence.length()) {
      int cp = sentence.codePointAt(i);
      int next = i + Character.charCount(cp);
      if (!isCjk(cp) && !Character.isWhitespace(cp)) {
        while (next < sentence.length()) {
          int c2 = sentence.codePointAt(next);
          if (isCjk(c2) || Character.isWhitespace(c2)) {
            break;
          }
          next += Character.charCount(c2);
        }
      }
      String unit = sentence.substring(i, next);
      if (!cur.isEmpty() && TokenEstimate.of(cur) + TokenEstimate.of(unit) > targetTokens) {
        String s = cur.toString().strip();
        if (!s.isEmpty()) {
          out.add(s);
        }
        cur.setLength(0);
      }
      cur.append(unit);
      i = next;
    }
    String s = cur.toString().strip();
    if (!s.isEmpty()) {
      out.add(s);
    }
    return out;
  }

  static boolean isCjk(int cp) {
    Character.UnicodeScript s = Character.UnicodeScript.of(cp);
    return s == Character.UnicodeScript.HAN
        || s == Character.UnicodeScript.HIRAGANA
        || s == Character.UnicodeScript.KATAKANA
        || s == Character.UnicodeScript.HANGUL
        || (cp >= 0x3000 && cp <= 0x303F)
        || (cp >= 0xFF00 && cp <= 0xFFEF);
  }
}
