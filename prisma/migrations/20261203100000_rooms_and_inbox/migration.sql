-- AlterTable
ALTER TABLE `conversations` ADD COLUMN `last_activity_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3);

-- AlterTable
ALTER TABLE `files` ADD COLUMN `conversation` VARCHAR(32) NULL;

-- CreateTable
CREATE TABLE `rooms` (
    `room_id` CHAR(12) NOT NULL,
    `name` VARCHAR(64) NOT NULL,
    `owner_id` CHAR(10) NOT NULL,
    `member_count` INTEGER UNSIGNED NOT NULL DEFAULT 0,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updated_at` DATETIME(3) NOT NULL,

    INDEX `rooms_owner_id_idx`(`owner_id`),
    PRIMARY KEY (`room_id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `conversation_members` (
    `conversation` VARCHAR(32) NOT NULL,
    `user_id` CHAR(10) NOT NULL,
    `role` ENUM('owner', 'admin', 'member') NULL,
    `peer_id` CHAR(10) NULL,
    `joined_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `last_read_id` BIGINT UNSIGNED NOT NULL DEFAULT 0,

    INDEX `conversation_members_user_id_conversation_idx`(`user_id`, `conversation`),
    PRIMARY KEY (`conversation`, `user_id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- AddForeignKey
ALTER TABLE `rooms` ADD CONSTRAINT `rooms_owner_id_fkey` FOREIGN KEY (`owner_id`) REFERENCES `users`(`user_id`) ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `conversation_members` ADD CONSTRAINT `conversation_members_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `users`(`user_id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill (hand-written: data, not schema).

-- Each conversation's activity is its last message's time (seq = last_seq). A conversation
-- without one keeps the migration's time.
UPDATE `conversations` c
SET c.`last_activity_at` = COALESCE(
    (SELECT m.`created_at` FROM `chat_messages` m WHERE m.`conversation` = c.`conversation` AND m.`seq` = c.`last_seq`),
    c.`last_activity_at`)
WHERE c.`last_seq` > 0;

-- Two membership rows per private chat that has messages, joined at its first message, nothing
-- read yet (as for a chat made after this migration). `p:<a>:<b>`: a at 3, b at 14.
INSERT IGNORE INTO `conversation_members` (`conversation`, `user_id`, `peer_id`, `joined_at`, `last_read_id`)
SELECT c.`conversation`, pair.`user_id`, pair.`peer_id`, first.`created_at`, 0
FROM `conversations` c
JOIN `chat_messages` first ON first.`conversation` = c.`conversation` AND first.`seq` = 1
JOIN (
    SELECT c2.`conversation`, SUBSTRING(c2.`conversation`, 3, 10) AS `user_id`, SUBSTRING(c2.`conversation`, 14, 10) AS `peer_id`
    FROM `conversations` c2 WHERE c2.`conversation` LIKE 'p:%'
    UNION ALL
    SELECT c2.`conversation`, SUBSTRING(c2.`conversation`, 14, 10), SUBSTRING(c2.`conversation`, 3, 10)
    FROM `conversations` c2 WHERE c2.`conversation` LIKE 'p:%'
) pair ON pair.`conversation` = c.`conversation`
JOIN `users` u ON u.`user_id` = pair.`user_id`
JOIN `users` p ON p.`user_id` = pair.`peer_id`;

-- Every existing file was uploaded for the group (no target) or for a private chat.
UPDATE `files`
SET `conversation` = IF(`target_id` IS NULL, 'group',
    CONCAT('p:', LEAST(`owner_id`, `target_id`), ':', GREATEST(`owner_id`, `target_id`)))
WHERE `conversation` IS NULL;
