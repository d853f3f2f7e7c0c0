package org.glmmaas.knowledge.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.poi.xwpf.usermodel.XWPFDocument;
import org.glmmaas.knowledge.support.Pdfs;
import org.junit.jupiter.api.Test;

class DocumentParserTest {

  private final DocumentParser parser = new DocumentParser(1 << 20, 100_000);

  @Test
  void pdfParagraphsComeOutAsSeparateChunks() {
    byte[] pdf =
        Pdfs.of(List.of(List.of("Alpha paragraph about llamas.", "Beta paragraph about ferns.")));
    DocumentParser.Parsed parsed = parser.parse("a.pdf", pdf);
    assertThat(parsed.type()).isEqualTo(DocumentParser.FileType.PDF);
    assertThat(new Chunker(256, 32).chunk(parsed.text()))
        .extracting(Chunker.Chunk::text)
        .containsExactly("Alpha paragraph about llamas.", "Beta paragraph about ferns.");
  }

  @Test
  void docxParagraphsAreExtracted() throws IOException {
    byte[] docx;
    try (XWPFDocument d = new XWPFDocument();
        ByteArrayOutputStream out = new ByteArrayOutputStream()) {
      d.createParagraph().createRun().setText("第一段。");
      d.createParagraph().createRun().setText("Second paragraph.");
      d.write(out);
      docx = out.toByteArray();
    }
    assertThat(new Chunker(256, 32).chunk(parser.parse("x.DOCX", docx).text()))
        .extracting(Chunker.Chunk::text)
        .containsExactly("第一段。", "Second paragraph.");
  }

  @Test
  void badInputIsRefusedWithAReason() {
    assertThatThrownBy(() -> parser.parse("a.exe", new byte[] {1}))
        .isInstanceOf(BadDocumentException.class)
        .hasMessageContaining("unsupported file type '.exe'");
    assertThatThrownBy(() -> parser.parse("a.md", new byte[0]))
        .hasMessageContaining("is empty (0 bytes)");
    assertThatThrownBy(() -> parser.parse("a.pdf", "hello".getBytes(StandardCharsets.UTF_8)))
        .hasMessageContaining("not a PDF");
    assertThatThrownBy(() -> parser.parse("a.txt", new byte[] {(byte) 0xff, (byte) 0xfe, 0x41}))
        .hasMessageContaining("not UTF-8");
    assertThatThrownBy(() -> parser.parse("a.docx", "PK\u0003\u0004junk".getBytes()))
        .hasMessageContaining("DOCX 'a.docx' cannot be read");
    assertThatThrownBy(() -> parser.parse("a.txt", new byte[(1 << 20) + 1]))
        .isInstanceOfSatisfying(BadDocumentException.class, e -> assertThat(e.tooLarge()).isTrue());
  }

  @Test
  void aSmallPdfThatInflatesPastTheTextLimitIsRefused() {
    // 60 pages of 40 lines compress well: a few KB of PDF, far more extracted text
    String line = "x".repeat(90);
    List<String> page = java.util.Collections.nCopies(15, line);
    byte[] pdf = Pdfs.of(java.util.Collections.nCopies(80, page));
    DocumentParser small = new DocumentParser(1 << 20, 50_000);
    assertThat(pdf.length).isLessThan(50_000);
    assertThatThrownBy(() -> small.parse("bomb.pdf", pdf))
        .isInstanceOfSatisfying(BadDocumentException.class, e -> assertThat(e.tooLarge()).isTrue())
        .hasMessageContaining("extracts to more than 50000 characters");
  }
}
