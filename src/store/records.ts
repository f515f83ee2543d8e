/** The records the read side keeps: version records and the head pointer, as the API describes them. */
export {
  changeSummarySchema as ChangeSummarySchema,
  versionRecordSchema as VersionRecordSchema,
  type ChangeSummary,
  type VersionRecord,
} from '../protocol/record.js';
export { headSchema as HeadSchema, type Head } from '../api/answers.js';
