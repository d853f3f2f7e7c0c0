package org.glmmaas.knowledge.ingest;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.io.MemoryUsageSetting;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.apache.poi.openxml4j.util.ZipSecureFile;
import org.apache.poi.xwpf.usermodel.IBodyElement;
import org.apache.poi.xwpf.usermodel.XWPFDocument;
import org.apache.poi.xwpf.usermodel.XWPFParagraph;
import org.apache.poi.xwpf.usermodel.XWPFTable;

/**
 * Turns an uploaded file into plain text with paragraphs separated by blank lines. The type comes
 * from the file name's extension and must agree with the bytes (a PDF starts with {@code %PDF-}, a
 * DOCX is a zip); text and Markdown must be UTF-8. Limits: {@code maxBytes} of input, {@code
 * maxChars} of extracted text (a small PDF or DOCX that inflates past it is refused), PDFBox held
 * to main memory of at most 4x the input plus 16 MB, POI's zip-bomb checks on.
 */
public final class DocumentParser {

  /** The supported types, by extension. */
  public enum FileType {
    TEXT,
    MARKDOWN,
    PDF,
    DOCX
  }

  private final long maxBytes;
  private final int maxChars;

  public DocumentParser(long maxBytes, int maxChars) {
    this.maxBytes = maxBytes;
    this.maxChars = maxChars;
  }

  public record Parsed(FileType type, String text) {}

  public static FileType typeOf(String fileName) {
    String name = fileName == null ? "" : fileName.toLowerCase(Locale.ROOT);
    int dot = name.lastIndexOf('.');
    String ext = dot < 0 ? "" : name.substring(dot + 1);
    return switch (ext) {
      case "txt", "text" -> FileType.TEXT;
      case "md", "markdown" -> FileType.MARKDOWN;
      case "pdf" -> FileType.PDF;
      case "docx" -> FileType.DOCX;
      default ->
          throw new BadDocumentException(
              "unsupported file type '"
                  + (ext.isEmpty() ? fileName : "." + ext)
                  + "': knowledge documents are .txt, .md, .pdf or .docx");
    };
  }

  public Parsed parse(String fileName, byte[] content) {
    FileType type = typeOf(fileName);
    if (content.length == 0) {
      throw new BadDocumentException("file '" + fileName + "' is empty (0 bytes)");
    }
    if (content.length > maxBytes) {
      throw new BadDocumentException(
          "file '" + fileName + "' is " + content.length + " bytes; the limit is " + maxBytes,
          true);
    }
    String text =
        switch (type) {
          case TEXT, MARKDOWN -> utf8(fileName, content);
          case PDF -> pdf(fileName, content);
          case DOCX -> docx(fileName, content);
        };
    if (text.length() > maxChars) {
      throw new BadDocumentException(
          "file '" + fileName + "' extracts to more than " + maxChars + " characters", true);
    }
    if (text.isBlank()) {
      throw new BadDocumentException("file '" + fileName + "' has no text to index");
    }
    return new Parsed(type, text);
  }

  private static String utf8(String fileName, byte[] content) {
    try {
      String s =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(content))
              .toString();
      if (s.indexOf('\0') >= 0) {
        throw new BadDocumentException("file '" + fileName + "' is binary, not text");
      }
      return s.startsWith("\uFEFF") ? s.substring(1) : s;
    } catch (CharacterCodingException e) {
      throw new BadDocumentException("file '" + fileName + "' is not UTF-8 text");
    }
  }

  private String pdf(String fileName, byte[] content) {
    if (!startsWith(content, "%PDF-")) {
      throw new BadDocumentException("file '" + fileName + "' is not a PDF (no %PDF- header)");
    }
    long memory = Math.min(Integer.MAX_VALUE, 4L * content.length + (16L << 20));
    try (PDDocument doc =
        Loader.loadPDF(
            content, "", null, null, MemoryUsageSetting.setupMainMemoryOnly(memory).streamCache)) {
      if (doc.isEncrypted() && !doc.getCurrentAccessPermission().canExtractContent()) {
        throw new BadDocumentException("PDF '" + fileName + "' does not permit text extraction");
      }
      PDFTextStripper stripper = new PDFTextStripper();
      stripper.setSortByPosition(true);
      stripper.setLineSeparator("\n");
      stripper.setParagraphEnd("\n\n");
      stripper.setPageEnd("\n\n");
      LimitedWriter out = new LimitedWriter(maxChars, fileName);
      stripper.writeText(doc, out);
      return out.sb.toString();
    } catch (IOException e) {
      throw new BadDocumentException("PDF '" + fileName + "' cannot be read: " + e.getMessage());
    } catch (OutOfMemoryError e) {
      throw new BadDocumentException(
          "PDF '" + fileName + "' needs more memory to read than its size allows", true);
    }
  }

  private String docx(String fileName, byte[] content) {
    if (!startsWith(content, "PK\u0003\u0004")) {
      throw new BadDocumentException("file '" + fileName + "' is not a DOCX (not a zip)");
    }
    ZipSecureFile.setMinInflateRatio(0.01);
    ZipSecureFile.setMaxEntrySize(Math.max(64L << 20, 8L * maxChars));
    try (XWPFDocument doc = new XWPFDocument(new ByteArrayInputStream(content))) {
      StringBuilder sb = new StringBuilder();
      for (IBodyElement e : doc.getBodyElements()) {
        if (e instanceof XWPFParagraph p) {
          sb.append(p.getText()).append("\n\n");
        } else if (e instanceof XWPFTable t) {
          sb.append(t.getText()).append("\n\n");
        }
        if (sb.length() > maxChars) {
          throw new BadDocumentException(
              "file '" + fileName + "' extracts to more than " + maxChars + " characters", true);
        }
      }
      return sb.toString();
    } catch (IOException | RuntimeException e) {
      if (e instanceof BadDocumentException b) {
        throw b;
      }
      throw new BadDocumentException("DOCX '" + fileName + "' cannot be read: " + e.getMessage());
    }
  }

  private static boolean startsWith(byte[] content, String magic) {
    byte[] m = magic.getBytes(StandardCharsets.ISO_8859_1);
    if (content.length < m.length) {
      return false;
    }
    for (int i = 0; i < m.length; i++) {
      if (content[i] != m[i]) {
        return false;
      }
    }
    return true;
  }

  /** Stops a text extraction as soon as it passes the limit. */
  private static final class LimitedWriter extends Writer {
    final StringBuilder sb = new StringBuilder();
    final int max;
    final String fileName;

    LimitedWriter(int max, String fileName) {
      this.max = max;
      this.fileName = fileName;
    }

    @Override
    public void write(char[] cbuf, int off, int len) {
      if (sb.length() + len > max) {
        throw new BadDocumentException(
            "file '" + fileName + "' extracts to more than " + max + " characters", true);
      }
      sb.append(cbuf, off, len);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }
}
