// The tooling's enum name tables (the --to/--from names, --json kinds,
// severities, connection problems), walked both ways.
#include <gtest/gtest.h>

#include "enum_table_checks.h"
#include "pinion/report/report.h"
#include "pinion/report/reporter.h"
#include "pinion/tooling/export.h"
#include "pinion/tooling/import.h"
#include "pinion/tooling/lint.h"
#include "pinion/tooling/tls_client.h"

namespace pinion::tooling {
namespace {

using pinion::testing::ExpectNamesRoundTrip;

TEST(NamesTest, EveryToolingTableRoundTrips) {
  ExpectNamesRoundTrip(kExportFormatNames, "ExportFormat");
  ExpectNamesRoundTrip(kExportChangeKindNames, "ExportChangeKind");
  ExpectNamesRoundTrip(kImportFormatNames, "ImportFormat");
  ExpectNamesRoundTrip(kImportChangeKindNames, "ImportChangeKind");
  ExpectNamesRoundTrip(kSeverityNames, "Severity");
  ExpectNamesRoundTrip(kConnectProblemNames, "ConnectProblem");
}

TEST(NamesTest, EveryReportTableRoundTrips) {
  ExpectNamesRoundTrip(kReportFormatNames, "ReportFormat");
  ExpectNamesRoundTrip(kSubmitOutcomeNames, "SubmitOutcome");
}

TEST(NamesTest, FormatListsComeFromTheTables) {
  EXPECT_EQ(ExportFormatNames().size(), kExportFormatNames.all().size());
  EXPECT_EQ(ImportFormatNames().size(), kImportFormatNames.all().size());
  EXPECT_EQ(*ParseExportFormat("okhttp-java"), ExportFormat::kOkHttpJava);
  EXPECT_FALSE(ParseImportFormat("okhttp-java").ok());
}

}  // namespace
}  // namespace pinion::tooling
