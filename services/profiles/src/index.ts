// The profile read model: the one owner of the profile tables. Every other package reads profiles through these
// named queries and relations; none assembles SQL over identities, merges, stats, traits, roll-ups or membership.
export {
  absorbedBy,
  absorbedIdsOf,
  joinSurvivors,
  mergedIds,
  messagesPerSurvivor,
  notAbsorbed,
  ownedIds,
  ownerOf,
  storedIdsOf,
  storedIdsOfMany,
  survivorOf,
  survivorOfStored,
  survivorsOfStored,
} from './survivors';
export {
  latestTraitsOfSurvivors,
  parseTraitValue,
  profileStatsColumns,
  rfmOfCustomers,
  statColumns,
  statColumnsOf,
  statsOf,
  statsOfMany,
  statsOfSurvivors,
  traitsOf,
  traitsOfMany,
  traitValuesPage,
  withRfm,
  type ProfileStats,
} from './stats';
export {
  clickhouseNow,
  commitMarginMs,
  dateStatColumns,
  keptCrossing,
  keptRowsLackKeys,
  keptStats,
  rollUpSurvivors,
  type DateStatColumn,
  type KeptCrossing,
  type RollUp,
} from './rollups';
export {
  anyDecided,
  decisionsOf,
  decisionsOfMany,
  membersAsSurvivors,
  membersOf,
  movementsOf,
  segmentSizes,
  segmentsOf,
  segmentsOfMany,
  segmentsWithMembers,
  storeMembershipChanges,
} from './membership';
export {
  subscribersOf,
  subscriptionChannels,
  subscriptionsOfMany,
  type SubscriptionChannel,
  type SubscriptionState,
} from './subscriptions';
export {
  findProfileId,
  findProfileIds,
  identifiersOf,
  identitiesOfMany,
  normaliseLookup,
  parseProfileRef,
  profileRefTypes,
  refFormat,
  readProfile,
  readProfiles,
  type Profile,
  type ProfileRefType,
} from './profile';
export {
  decodeAudienceCursor,
  readAudiencePage,
  streamAudience,
  type AudienceMember,
  type AudienceOptions,
  type AudiencePage,
} from './audience';
export { streamAudienceCsv } from './audience-csv';
export { writeIdentities, writeMerges } from './identities';
